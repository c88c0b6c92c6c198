/*
 * netharness - host-side traffic harness for ixmetal's QEMU network tests.
 *
 * How it connects. Each guest NIC under test is given to QEMU as
 *
 *   -netdev dgram,id=nK,local.type=inet,local.host=127.0.0.1,local.port=QK,
 *           remote.type=inet,remote.host=127.0.0.1,remote.port=HK
 *
 * QEMU sends every frame the guest transmits on that NIC as one UDP datagram
 * (exactly one Ethernet frame: no FCS, no extra header) from 127.0.0.1:QK to
 * 127.0.0.1:HK, and takes every datagram arriving on QK, from any source, as a
 * frame received by the guest. So for `--port K=HK:QK` this program binds a UDP
 * socket to 127.0.0.1:HK and sends to 127.0.0.1:QK.
 *
 * QEMU's dgram backend has one queue pair. A multiqueue NIC is tested through a
 * tap backend instead (-netdev tap,ifname=tapK,...), in a network namespace of
 * the test's own: for `--port K=if:tapK` this program opens a raw packet socket
 * (packet(7)) on the host's end of the tap. A frame it sends into the interface
 * is read by QEMU and received by the guest; a frame the guest transmits is
 * received on the interface, where the socket sees it.
 *
 * Modes, one per run:
 *   fwd      send N frames into port 0 and N into port 1, expect each to come
 *            out of the other port (l2fwd-style forwarder), check every byte
 *            (modes io, macswap, mac), count loss, duplicates, reordering;
 *            optionally a size mix (--sizes) and a pace (--rate)
 *   capture  receive a guest generator's Ethernet/IPv4/UDP frames and check
 *            headers, IPv4 checksums, sizes and sequence numbers (per port,
 *            or with --flows per flow: UDP source port - 1024)
 *   reflect  send every frame that comes out of a port back into it
 *
 * Usage and output formats: tools/netharness.md. Only libc; Linux.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 8
#define BATCH 32                  /* frames per sendmmsg/recvmmsg */
#define RX_BUF_SIZE 65536         /* larger than any UDP datagram over IPv4 */
#define SOCK_BUF_BYTES (4u << 20) /* SO_RCVBUF/SO_SNDBUF we ask for */
#define NOTE_LIMIT 10             /* problem lines printed per kind */
#define ETH_HDR 14
#define FRAME_MIN 60                /* Ethernet minimum without FCS */
#define FRAME_MAX 1514              /* Ethernet maximum without FCS or VLAN tag */
#define SEQ_CAP (UINT64_C(1) << 28) /* capture: highest sequence number tracked */

/*
 * The fwd frame tag, which no forwarding mode rewrites. Offset 46 is the first
 * byte after Ethernet + 802.1Q + IPv4 + UDP headers, so it is in the UDP payload
 * of every IPv4 frame; in IPv6 frames it overlays the low half of the
 * destination address and the first bytes after the IPv6 header.
 *   46 run id (u32 LE, random per process: frames of an earlier run are foreign)
 *   50 direction: 0 sent into port 0, 1 sent into port 1, 0x80|K a --bad frame
 *   51 TAG_FORMAT
 *   52 sequence id (u64 LE), per direction, from 0
 */
#define TAG_OFF 46
#define TAG_LEN 14
#define TAG_FORMAT 0xA5
#define TAG_BAD 0x80
_Static_assert(TAG_OFF + TAG_LEN == FRAME_MIN, "the tag must fit in the smallest frame");

/* ---------------------------------------------------------------- options */

enum mode { MODE_FWD = 1, MODE_CAPTURE = 2, MODE_REFLECT = 4 };
enum rewrite { REWRITE_IO, REWRITE_MACSWAP, REWRITE_MAC };

/*
 * A port is a UDP socket facing a dgram netdev, or a packet socket on a
 * network interface (the host's end of a tap). Only the "sockets" section
 * below tells them apart; every mode sends and receives the same way.
 */
enum port_kind { PORT_UDP, PORT_IF };

struct port {
    bool used;
    enum port_kind kind;
    uint16_t host_port, qemu_port; /* UDP: we bind host_port, send to qemu_port */
    char ifname[IF_NAMESIZE];      /* IF: the interface */
    int fd;
    struct sockaddr_in to; /* UDP: where frames go; an IF socket sends to its interface */
    socklen_t to_len;      /* 0 for an IF port */
};

struct opts {
    enum mode mode;
    const char *name; /* "fwd", "capture", "reflect" */
    struct port ports[MAX_PORTS];
    uint64_t count;
    bool have_count;
    enum rewrite rewrite;
    uint8_t mac[2][6];
    bool have_mac[2];
    uint64_t seed;
    uint64_t window;
    double timeout, drain;
    bool have_drain;
    bool bad;
    uint64_t size;
    uint64_t flows;      /* fwd: UDP source ports 1024..1024+flows-1, in turn */
    bool have_flows;     /* capture: sequence numbers are per flow (source port) */
    bool vlan_unordered; /* fwd: VLAN frames are not checked for order */
    double rate;         /* fwd: frames per second, both directions together; 0 unpaced */
};

#define MAX_FLOWS 256
#define CAPTURE_MAX_FLOWS 64512 /* capture: source ports 1024..65535 */
/* --flows: frame seq of a direction carries UDP source port 1024 + seq % flows. */
static uint64_t flows = 1;

/* --sizes: the sizes a frame after the first five takes, each entry as likely
 * as the others; SIZE_RANDOM stands for a size uniform in FRAME_MIN..FRAME_MAX. */
#define MAX_SIZES 32
#define SIZE_RANDOM 0
static uint16_t size_mix[MAX_SIZES] = { SIZE_RANDOM };
static int nsizes = 1;

static void usage(FILE *out)
{
    fputs("usage:\n"
          "  netharness fwd --port 0=H0:Q0 --port 1=H1:Q1 --count N\n"
          "                 [--mode io|macswap|mac --mac0 MAC --mac1 MAC] [--seed S]\n"
          "                 [--window W] [--timeout SEC] [--drain SEC] [--bad] [--flows F]\n"
          "                 [--vlan-unordered] [--sizes S,S,...|random] [--rate R]\n"
          "  netharness capture --port K=HK:QK [--port ...] --count N [--size S]\n"
          "                 [--timeout SEC] [--drain SEC] [--flows F]\n"
          "  netharness reflect --port K=HK:QK [--port ...] [--count N] [--timeout SEC]\n"
          "HK: UDP port this program binds (QEMU's remote.port), QK: QEMU's local.port.\n"
          "Any port may be K=if:IFNAME instead: a packet socket on that interface (a tap).\n"
          "Exit status: 0 all good, 1 a check failed, 2 usage or setup error.\n",
          out);
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("netharness: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage(stderr);
    exit(2);
}

static void die_sys(const char *what) __attribute__((noreturn));
static void die_sys(const char *what)
{
    fprintf(stderr, "netharness: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* p, what malloc, calloc or realloc returned; exits (status 2) if NULL. */
static void *must_alloc(void *p)
{
    if (!p)
        die_sys("out of memory");
    return p;
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        die_usage("%s: '%s' is not a number in %" PRIu64 "..%" PRIu64, opt, s, min, max);
    return v;
}

/* A number in min..max (what, e.g. "seconds", for the message). */
static double parse_double(const char *opt, const char *s, double min, double max, const char *what)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min && v <= max))
        die_usage("%s: '%s' is not a number of %s in %.10g..%.10g", opt, s, what, min, max);
    return v;
}

static void parse_mac(const char *opt, const char *s, uint8_t mac[6])
{
    int n = 0;
    if (sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0], &mac[1], &mac[2], &mac[3],
               &mac[4], &mac[5], &n) != 6 ||
        n != 17 || s[n])
        die_usage("%s: '%s' is not a MAC address like 52:54:00:12:34:56", opt, s);
}

/* "K=HK:QK" (UDP) or "K=if:IFNAME" (packet socket on an interface) */
static void parse_port(struct opts *o, const char *s)
{
    unsigned k, h, q;
    int n = 0;
    struct port p = { .used = true, .fd = -1 };
    if (sscanf(s, "%u=if:%n", &k, &n) == 1 && n) {
        const char *name = s + n;
        /* What the kernel accepts as a name (dev_valid_name): no '/', ':' or space. */
        if (!*name || strlen(name) >= IF_NAMESIZE || strpbrk(name, "/: \t\n"))
            die_usage("--port: '%s': '%s' is not an interface name", s, name);
        p.kind = PORT_IF;
        strcpy(p.ifname, name);
    } else if (sscanf(s, "%u=%u:%u%n", &k, &h, &q, &n) == 3 && !s[n] && h && q && h <= 65535 &&
               q <= 65535) {
        p.kind = PORT_UDP;
        p.host_port = (uint16_t)h;
        p.qemu_port = (uint16_t)q;
    } else {
        die_usage("--port: '%s' is not K=HOSTPORT:QEMUPORT or K=if:IFNAME", s);
    }
    if (k >= MAX_PORTS)
        die_usage("--port: '%s': K must be below %d", s, MAX_PORTS);
    if (o->ports[k].used)
        die_usage("--port: port %u given twice", k);
    o->ports[k] = p;
}

/* "64,128,1514,random": frame sizes in FRAME_MIN..FRAME_MAX, or "random". */
static void parse_sizes(const char *opt, const char *s)
{
    char buf[512];
    if (strlen(s) >= sizeof buf)
        die_usage("%s: '%s' is too long", opt, s);
    strcpy(buf, s);
    nsizes = 0;
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (nsizes == MAX_SIZES)
            die_usage("%s: more than %d sizes", opt, MAX_SIZES);
        size_mix[nsizes++] =
            !strcmp(t, "random") ? SIZE_RANDOM : (uint16_t)parse_u64(opt, t, FRAME_MIN, FRAME_MAX);
    }
    if (!nsizes)
        die_usage("%s: '%s' names no size", opt, s);
}

static void parse_rewrite(struct opts *o, const char *s)
{
    if (!strcmp(s, "io"))
        o->rewrite = REWRITE_IO;
    else if (!strcmp(s, "macswap"))
        o->rewrite = REWRITE_MACSWAP;
    else if (!strcmp(s, "mac"))
        o->rewrite = REWRITE_MAC;
    else
        die_usage("--mode: '%s' is not io, macswap or mac", s);
}

static int port_count(const struct opts *o)
{
    int n = 0;
    for (int k = 0; k < MAX_PORTS; k++)
        n += o->ports[k].used;
    return n;
}

/* After all options are read: what each mode needs. */
static void check_opts(struct opts *o)
{
    if (!port_count(o))
        die_usage("%s: no --port given", o->name);
    if (o->mode == MODE_FWD) {
        if (!o->ports[0].used || !o->ports[1].used || port_count(o) != 2)
            die_usage("fwd: needs exactly --port 0=... and --port 1=...");
        if (o->rewrite == REWRITE_MAC && (!o->have_mac[0] || !o->have_mac[1]))
            die_usage("fwd: --mode mac needs --mac0 and --mac1 (the guest ports' MACs)");
    }
    if (o->mode != MODE_REFLECT && !o->have_count)
        die_usage("%s: --count N is required", o->name);
    if (o->mode == MODE_FWD && !o->have_drain)
        o->drain = 1.0;
}

/* Every option and the modes it applies to; all but --bad take a value. */
enum opt_id {
    O_PORT,
    O_COUNT,
    O_TIMEOUT,
    O_DRAIN,
    O_SIZE,
    O_MODE,
    O_MAC0,
    O_MAC1,
    O_SEED,
    O_WINDOW,
    O_FLOWS,
    O_VLAN_UNORDERED,
    O_SIZES,
    O_RATE,
    O_BAD
};
static const struct {
    const char *name;
    enum opt_id id;
    int modes;
} option_table[] = {
    { "--port", O_PORT, MODE_FWD | MODE_CAPTURE | MODE_REFLECT },
    { "--count", O_COUNT, MODE_FWD | MODE_CAPTURE | MODE_REFLECT },
    { "--timeout", O_TIMEOUT, MODE_FWD | MODE_CAPTURE | MODE_REFLECT },
    { "--drain", O_DRAIN, MODE_FWD | MODE_CAPTURE },
    { "--size", O_SIZE, MODE_CAPTURE },
    { "--mode", O_MODE, MODE_FWD },
    { "--mac0", O_MAC0, MODE_FWD },
    { "--mac1", O_MAC1, MODE_FWD },
    { "--seed", O_SEED, MODE_FWD },
    { "--window", O_WINDOW, MODE_FWD },
    { "--flows", O_FLOWS, MODE_FWD | MODE_CAPTURE },
    { "--bad", O_BAD, MODE_FWD },
    { "--vlan-unordered", O_VLAN_UNORDERED, MODE_FWD },
    { "--sizes", O_SIZES, MODE_FWD },
    { "--rate", O_RATE, MODE_FWD },
};

static void parse_option(struct opts *o, enum opt_id id, const char *opt, const char *v)
{
    switch (id) {
    case O_PORT:
        parse_port(o, v);
        break;
    case O_COUNT:
        o->count = parse_u64(opt, v, 1, 1000000000);
        o->have_count = true;
        break;
    case O_TIMEOUT:
        o->timeout = parse_double(opt, v, 0, 86400, "seconds");
        break;
    case O_DRAIN:
        o->drain = parse_double(opt, v, 0, 86400, "seconds");
        o->have_drain = true;
        break;
    case O_SIZE:
        o->size = parse_u64(opt, v, 1, RX_BUF_SIZE);
        break;
    case O_MODE:
        parse_rewrite(o, v);
        break;
    case O_MAC0:
    case O_MAC1:
        parse_mac(opt, v, o->mac[id == O_MAC1]);
        o->have_mac[id == O_MAC1] = true;
        break;
    case O_SEED:
        o->seed = parse_u64(opt, v, 0, UINT64_MAX);
        break;
    case O_WINDOW:
        o->window = parse_u64(opt, v, 1, 1u << 20);
        break;
    case O_FLOWS:
        o->flows = parse_u64(opt, v, 1, o->mode == MODE_CAPTURE ? CAPTURE_MAX_FLOWS : MAX_FLOWS);
        o->have_flows = true;
        break;
    case O_BAD:
        o->bad = true;
        break;
    case O_VLAN_UNORDERED:
        o->vlan_unordered = true;
        break;
    case O_SIZES:
        parse_sizes(opt, v);
        break;
    case O_RATE:
        o->rate = parse_double(opt, v, 1, 1e9, "frames per second");
        break;
    }
}

static void parse_mode(struct opts *o, const char *arg)
{
    static const struct {
        const char *name;
        enum mode mode;
    } modes[] = { { "fwd", MODE_FWD }, { "capture", MODE_CAPTURE }, { "reflect", MODE_REFLECT } };

    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
        usage(stdout);
        exit(0);
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (!strcmp(arg, modes[i].name)) {
            o->mode = modes[i].mode;
            o->name = modes[i].name;
            return;
        }
    die_usage("unknown mode '%s'", arg);
}

static void parse_args(struct opts *o, int argc, char **argv)
{
    if (argc < 2)
        die_usage("no mode given");
    parse_mode(o, argv[1]);
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        size_t k = 0, n = sizeof option_table / sizeof option_table[0];
        while (k < n && strcmp(opt, option_table[k].name))
            k++;
        if (k == n)
            die_usage("unknown option '%s'", opt);
        if (!(option_table[k].modes & o->mode))
            die_usage("%s: option %s does not apply", o->name, opt);
        const char *v = NULL;
        if (option_table[k].id != O_BAD && option_table[k].id != O_VLAN_UNORDERED) {
            if (i + 1 >= argc)
                die_usage("option %s needs a value", opt);
            v = argv[++i];
        }
        parse_option(o, option_table[k].id, opt, v);
    }
    check_opts(o);
}

/* ---------------------------------------------------------------- helpers */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* splitmix64 (Steele, Lea, Flood 2014): turns (seed, direction, seq) into a state. */
static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

/* xorshift64 (Marsaglia 2003, shifts 13/7/17); the state must not be 0. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* RFC 1071 Internet checksum: one's complement of the one's complement sum. */
static uint16_t inet_csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get_be16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A growable bit set of sequence numbers. */
struct seqset {
    uint8_t *bits;
    uint64_t cap; /* in bits, a multiple of 8 */
};

static void seqset_reserve(struct seqset *s, uint64_t nbits)
{
    if (nbits <= s->cap)
        return;
    uint64_t cap = s->cap ? s->cap : 4096;
    while (cap < nbits)
        cap *= 2;
    uint8_t *b = must_alloc(realloc(s->bits, cap / 8));
    memset(b + s->cap / 8, 0, (cap - s->cap) / 8);
    s->bits = b;
    s->cap = cap;
}

static bool seqset_has(const struct seqset *s, uint64_t i)
{
    return i < s->cap && (s->bits[i / 8] >> (i % 8)) & 1;
}

/* Sets bit i; returns whether it was set before. */
static bool seqset_add(struct seqset *s, uint64_t i)
{
    seqset_reserve(s, i + 1);
    bool was = seqset_has(s, i);
    s->bits[i / 8] |= (uint8_t)(1u << (i % 8));
    return was;
}

/* Problem lines: each kind is counted, its first NOTE_LIMIT are printed. */
enum note_kind {
    N_LOST,
    N_DUP,
    N_REORDERED,
    N_CORRUPT,
    N_UNEXPECTED,
    N_BAD_ETH,
    N_BAD_IP,
    N_BAD_CSUM,
    N_BAD_UDP,
    N_BAD_SIZE,
    N_GAP,
    N_KINDS
};
static const char *const note_names[N_KINDS] = { "lost",       "dup",      "reordered", "corrupt",
                                                 "unexpected", "bad_eth",  "bad_ip",    "bad_csum",
                                                 "bad_udp",    "bad_size", "gap" };

struct notes {
    uint64_t n[N_KINDS];
};

static void note(struct notes *ns, enum note_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(struct notes *ns, enum note_kind k, const char *fmt, ...)
{
    if (ns->n[k]++ >= NOTE_LIMIT)
        return;
    va_list ap;
    printf("%s: ", note_names[k]);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static void notes_flush(const struct notes *ns)
{
    for (int k = 0; k < N_KINDS; k++)
        if (ns->n[k] > NOTE_LIMIT)
            printf("%s: %" PRIu64 " more not shown\n", note_names[k], ns->n[k] - NOTE_LIMIT);
}

/* ---------------------------------------------------------------- sockets */

/* As root, *_FORCE goes past net.core.[rw]mem_max; otherwise take what we get. */
static void sock_buf(int fd, int force_opt, int opt)
{
    int v = SOCK_BUF_BYTES;
    if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof v) == 0)
        return;
    if (setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v) != 0)
        fprintf(stderr, "netharness: warning: could not raise a socket buffer: %s\n",
                strerror(errno));
}

static void port_open_udp(struct port *p, int k)
{
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (p->fd < 0)
        die_sys("socket");
    sock_buf(p->fd, SO_RCVBUFFORCE, SO_RCVBUF);
    sock_buf(p->fd, SO_SNDBUFFORCE, SO_SNDBUF);

    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons(p->host_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(p->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "netharness: port %d: cannot bind 127.0.0.1:%u: %s\n", k, p->host_port,
                strerror(errno));
        exit(2);
    }
    p->to = a;
    p->to.sin_port = htons(p->qemu_port);
    p->to_len = sizeof p->to;
}

static void port_fail(int k, const struct port *p, const char *what) __attribute__((noreturn));
static void port_fail(int k, const struct port *p, const char *what)
{
    fprintf(stderr, "netharness: port %d (%s): %s: %s\n", k, p->ifname, what, strerror(errno));
    exit(2);
}

/*
 * A raw packet socket (packet(7), SOCK_RAW: whole frames, Ethernet header
 * included) bound to one interface. A frame sent on it leaves by that
 * interface: on a tap, QEMU reads it and the guest receives it.
 */
static void port_open_if(struct port *p, int k)
{
    int ifindex = (int)if_nametoindex(p->ifname);
    if (!ifindex)
        port_fail(k, p, "no such interface here (run in its network namespace: ip netns exec)");
    /* Protocol 0: nothing is received until bind names the interface, so
     * no frame of another interface slips in between. */
    p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (p->fd < 0)
        port_fail(k, p, "packet socket (needs root or CAP_NET_RAW)");
    /* The socket would see each frame it sends as PACKET_OUTGOING (Linux 4.20+). */
    int one = 1;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
        port_fail(k, p, "PACKET_IGNORE_OUTGOING");
    /* A received frame's VLAN tag comes beside it: port_recv puts it back. */
    if (setsockopt(p->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0)
        port_fail(k, p, "PACKET_AUXDATA");
    sock_buf(p->fd, SO_RCVBUFFORCE, SO_RCVBUF);
    sock_buf(p->fd, SO_SNDBUFFORCE, SO_SNDBUF);

    struct ifreq ifr = { 0 };
    memcpy(ifr.ifr_name, p->ifname, sizeof ifr.ifr_name);
    if (ioctl(p->fd, SIOCGIFFLAGS, &ifr) != 0)
        port_fail(k, p, "SIOCGIFFLAGS");
    if (!(ifr.ifr_flags & IFF_UP)) {
        fprintf(stderr, "netharness: port %d: interface %s is down (ip link set %s up)\n", k,
                p->ifname, p->ifname);
        exit(2);
    }
    struct sockaddr_ll a = { .sll_family = AF_PACKET,
                             .sll_protocol = htons(ETH_P_ALL),
                             .sll_ifindex = ifindex };
    if (bind(p->fd, (struct sockaddr *)&a, sizeof a) != 0)
        port_fail(k, p, "bind");
    p->to_len = 0; /* send with no address: to the interface bound */
}

static void ports_open(struct opts *o)
{
    for (int k = 0; k < MAX_PORTS; k++) {
        struct port *p = &o->ports[k];
        if (p->used && p->kind == PORT_UDP)
            port_open_udp(p, k);
        else if (p->used)
            port_open_if(p, k);
    }
}

static void ports_close(struct opts *o)
{
    for (int k = 0; k < MAX_PORTS; k++)
        if (o->ports[k].used && o->ports[k].fd >= 0)
            close(o->ports[k].fd);
}

/* Sends n frames into a port (to QEMU), retrying what sendmmsg did not take. */
static void port_send(struct port *p, uint8_t *const *frames, const size_t *lens, int n)
{
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    for (int i = 0; i < n; i++) {
        iov[i] = (struct iovec){ .iov_base = frames[i], .iov_len = lens[i] };
        m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = p->to_len ? &p->to : NULL,
                                              .msg_namelen = p->to_len,
                                              .msg_iov = &iov[i],
                                              .msg_iovlen = 1 } };
    }
    for (int done = 0; done < n;) {
        int r = sendmmsg(p->fd, m + done, n - done, 0);
        if (r < 0 && errno == EMSGSIZE) { /* an interface's MTU, e.g. for --bad's 9000 bytes */
            fprintf(stderr, "netharness: %s: a %zu-byte frame is too long for it (raise its MTU)\n",
                    p->kind == PORT_IF ? p->ifname : "port", lens[done]);
            exit(2);
        }
        if (r < 0 && errno != EINTR && errno != ENOBUFS && errno != EAGAIN)
            die_sys("sendmmsg");
        if (r > 0)
            done += r;
    }
}

/* Receive buffers, shared by all ports: one burst is handled before the next. */
struct rx_burst {
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    union { /* IF ports: each frame's PACKET_AUXDATA */
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } ctl[BATCH];
    uint8_t *buf; /* BATCH * RX_BUF_SIZE */
};

static void rx_burst_init(struct rx_burst *b)
{
    b->buf = must_alloc(malloc((size_t)BATCH * RX_BUF_SIZE));
}

/*
 * Linux takes the 802.1Q (or 802.1ad) tag out of a frame an interface receives
 * before any packet socket sees it, and hands it over beside the frame in
 * PACKET_AUXDATA: put it back, so the frame reads as it was on the wire.
 * Frame f has room for 4 more bytes (port_recv leaves it).
 */
static void if_restore_vlan(struct mmsghdr *m, uint8_t *f)
{
    struct msghdr *h = &m->msg_hdr;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
            continue;
        struct tpacket_auxdata aux;
        memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (!(aux.tp_status & TP_STATUS_VLAN_VALID) || m->msg_len < 12)
            return;
        uint16_t tpid = aux.tp_status & TP_STATUS_VLAN_TPID_VALID ? aux.tp_vlan_tpid : ETH_P_8021Q;
        memmove(f + 16, f + 12, m->msg_len - 12); /* after the two MAC addresses */
        put_be16(f + 12, tpid);
        put_be16(f + 14, aux.tp_vlan_tci);
        m->msg_len += 4;
        return;
    }
}

/* Takes up to max (<= BATCH) waiting frames from a port without blocking; returns how many. */
static int port_recv(struct port *p, struct rx_burst *b, int max)
{
    bool is_if = p->kind == PORT_IF;
    for (int i = 0; i < max; i++) {
        b->iov[i] = (struct iovec){ .iov_base = b->buf + (size_t)i * RX_BUF_SIZE,
                                    .iov_len = RX_BUF_SIZE - (is_if ? 4 : 0) };
        b->m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &b->iov[i],
                                                 .msg_iovlen = 1,
                                                 .msg_control = is_if ? b->ctl[i].buf : NULL,
                                                 .msg_controllen = is_if ? sizeof b->ctl[i] : 0 } };
    }
    int r = recvmmsg(p->fd, b->m, max, MSG_DONTWAIT, NULL);
    for (int i = 0; is_if && i < r; i++)
        if_restore_vlan(&b->m[i], b->buf + (size_t)i * RX_BUF_SIZE);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        /* An ICMP error from an earlier send, e.g. QEMU not listening yet. */
        if (errno == ECONNREFUSED)
            return 0;
        die_sys("recvmmsg");
    }
    return r;
}

static const uint8_t *rx_frame(const struct rx_burst *b, int i, size_t *len)
{
    *len = b->m[i].msg_len;
    return b->buf + (size_t)i * RX_BUF_SIZE;
}

/* Waits up to `seconds` for any port to have a frame. */
static void ports_wait(struct opts *o, double seconds)
{
    struct pollfd pfd[MAX_PORTS];
    int n = 0;
    for (int k = 0; k < MAX_PORTS; k++)
        if (o->ports[k].used)
            pfd[n++] = (struct pollfd){ .fd = o->ports[k].fd, .events = POLLIN };
    int ms = seconds <= 0 ? 0 : (int)(seconds * 1000) + 1;
    if (poll(pfd, n, ms) < 0 && errno != EINTR)
        die_sys("poll");
}

/* ---------------------------------------------------------------- fwd frames */

enum kind { K_UNICAST, K_BROADCAST, K_VLAN, K_IPV6 };
static const char *const kind_names[] = { "unicast", "broadcast", "vlan", "ipv6" };

/* What frame `seq` of a direction is: size, kind and the state its random bytes come from. */
struct plan {
    size_t len;
    enum kind kind;
    uint64_t rng;
};

static struct plan frame_plan(uint64_t seed, int dir, uint64_t seq)
{
    /* The first five frames of each direction cover the edge sizes and every kind. */
    static const struct {
        uint16_t len;
        uint8_t kind;
    } fixed[] = { { 60, K_UNICAST },
                  { 61, K_BROADCAST },
                  { 64, K_VLAN },
                  { 1513, K_IPV6 },
                  { 1514, K_UNICAST } };
    struct plan p;
    p.rng = mix64(seed ^ mix64(seq << 1 | (uint64_t)dir)) | 1;
    uint64_t r = rng_next(&p.rng);
    if (seq < sizeof fixed / sizeof fixed[0]) {
        p.len = fixed[seq].len;
        p.kind = fixed[seq].kind;
        return p;
    }
    /* One of --sizes; with the default (random alone) as before it existed. */
    uint64_t q = r >> 8;
    uint16_t size = size_mix[q % (uint64_t)nsizes];
    p.len =
        size != SIZE_RANDOM ? size : FRAME_MIN + q / (uint64_t)nsizes % (FRAME_MAX - FRAME_MIN + 1);
    unsigned k = r & 15; /* 1/8 each broadcast, VLAN, IPv6; the rest unicast */
    p.kind = k < 2 ? K_BROADCAST : k < 4 ? K_VLAN : k < 6 ? K_IPV6 : K_UNICAST;
    return p;
}

static void fill_random(uint8_t *p, size_t len, uint64_t *rng)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t r = rng_next(rng);
        memcpy(p + i, &r, 8);
    }
    if (i < len) {
        uint64_t r = rng_next(rng);
        memcpy(p + i, &r, len - i);
    }
}

/* IPv4 (RFC 791) + UDP (RFC 768) headers at l3, with consistent lengths and checksum. */
static void put_ipv4_udp(uint8_t *l3, size_t l3_len, int from, uint16_t id, uint16_t sport,
                         bool bcast)
{
    uint8_t *ip = l3, *udp = l3 + 20;
    const uint8_t src[4] = { 10, 0, (uint8_t)from, 1 };
    const uint8_t dst[4] = { 10, bcast ? 255 : 0, bcast ? 255 : (uint8_t)(1 - from), 2 };
    ip[0] = 0x45; /* version 4, IHL 5 */
    ip[1] = 0;
    put_be16(ip + 2, (uint16_t)l3_len);
    put_be16(ip + 4, id);
    put_be16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = 64;
    ip[9] = 17; /* UDP */
    put_be16(ip + 10, 0);
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    put_be16(ip + 10, inet_csum(ip, 20));
    put_be16(udp + 0, sport);
    put_be16(udp + 2, 9); /* discard */
    put_be16(udp + 4, (uint16_t)(l3_len - 20));
    put_be16(udp + 6, 0); /* no checksum, allowed over IPv4 */
}

/* IPv6 (RFC 8200) header with next header 59, "no next header": the rest is opaque. */
static void put_ipv6(uint8_t *l3, size_t l3_len, int from)
{
    memset(l3, 0, 40);
    l3[0] = 0x60;
    put_be16(l3 + 4, (uint16_t)(l3_len - 40));
    l3[6] = 59;
    l3[7] = 64;
    l3[8] = 0xfd; /* source fd00::1:<port> */
    l3[21] = 1;
    l3[23] = (uint8_t)from;
    l3[24] = 0xfd; /* destination fd00::<the tag's first 8 bytes> */
}

static void tag_write(uint8_t *f, uint32_t run, uint8_t dir, uint64_t seq)
{
    put_le(f + TAG_OFF, run, 4);
    f[TAG_OFF + 4] = dir;
    f[TAG_OFF + 5] = TAG_FORMAT;
    put_le(f + TAG_OFF + 6, seq, 8);
}

/*
 * Writes a frame of len bytes (len >= 14) as sent into port `from`: random
 * bytes, with the headers of its kind over them as far as they fit (a runt gets
 * a truncated IPv4 header). The caller writes the tag.
 */
static void frame_fill(uint8_t *f, size_t len, enum kind kind, int from, uint16_t id,
                       uint16_t sport, uint64_t *rng)
{
    /* Headers are built in a copy of the first bytes, which are random where no header is. */
    uint8_t h[TAG_OFF + 40] = { 0 };
    size_t l2 = kind == K_VLAN ? ETH_HDR + 4 : ETH_HDR;
    size_t l3_len = len > l2 ? len - l2 : 0;

    fill_random(f, len, rng);
    memcpy(h, f, len < TAG_OFF ? len : TAG_OFF);
    if (kind == K_BROADCAST)
        memset(h, 0xff, 6);
    else
        memcpy(h, (const uint8_t[5]){ 0x02, 0, 0, 0, 0 }, 5); /* 02:00:00:00:00:<random> */
    memcpy(h + 6, (const uint8_t[6]){ 0x02, 0, 0, 0, 0x01, (uint8_t)from }, 6);
    if (kind == K_VLAN) {
        put_be16(h + 12, 0x8100);
        put_be16(h + 14, (uint16_t)(1 + get_be16(h + 14) % 4094)); /* PCP 0, VID 1..4094 */
    }
    put_be16(h + l2 - 2, kind == K_IPV6 ? 0x86DD : 0x0800);
    if (kind == K_IPV6)
        put_ipv6(h + l2, l3_len, from);
    else
        put_ipv4_udp(h + l2, l3_len, from, id, sport, kind == K_BROADCAST);
    memcpy(f, h, len < TAG_OFF ? len : TAG_OFF);
}

/* Frame `seq` of direction `dir` (sent into port dir), the same each time for a seed. */
static size_t frame_make(uint8_t *f, uint64_t seed, uint32_t run, int dir, uint64_t seq)
{
    struct plan p = frame_plan(seed, dir, seq);
    frame_fill(f, p.len, p.kind, dir, (uint16_t)seq, (uint16_t)(1024 + seq % flows), &p.rng);
    tag_write(f, run, (uint8_t)dir, seq);
    return p.len;
}

/* What a forwarder in the given mode makes of a frame leaving by port `out`. */
static void frame_rewrite(uint8_t *f, const struct opts *o, int out)
{
    uint8_t tmp[6];
    switch (o->rewrite) {
    case REWRITE_IO:
        break;
    case REWRITE_MACSWAP:
        memcpy(tmp, f, 6);
        memcpy(f, f + 6, 6);
        memcpy(f + 6, tmp, 6);
        break;
    case REWRITE_MAC: /* DPDK l2fwd: src = TX port's MAC, dst = 02:00:00:00:00:<TX port> */
        memcpy(f, (const uint8_t[6]){ 0x02, 0, 0, 0, 0, (uint8_t)out }, 6);
        memcpy(f + 6, o->mac[out], 6);
        break;
    }
}

/* ---------------------------------------------------------------- fwd */

struct direction {
    uint64_t sent, recv, bytes; /* recv: distinct frames that arrived, corrupt or not */
    uint64_t dup, reordered, corrupt;
    /* The highest id arrived so far of each kind and flow (valid where
     * have[]): a NIC spreading flows over queues keeps the order within a
     * flow only, and frames of other kinds (IPv6, VLAN) may hash apart. */
    uint64_t max_seq[4][MAX_FLOWS];
    bool have[4][MAX_FLOWS];
    struct seqset seen;
};

struct fwd {
    struct opts *o;
    uint32_t run;
    struct direction d[2]; /* d[0]: sent into port 0, expected out of port 1 */
    uint64_t unexpected;
    struct notes notes;
    double start;             /* the first send: --rate's schedule counts from it */
    double last_rx, last_new; /* last arrival of anything / of a new frame */
    double last_tx;           /* last send: --timeout counts from it or last_rx, the later */
    uint8_t expect[FRAME_MAX];
    uint8_t tx[BATCH][FRAME_MAX];
};

static const char *dir_name(int dir)
{
    return dir ? "1->0" : "0->1";
}

/* Where the frame first differs from what was expected, for the problem line. */
static void fwd_corrupt(struct fwd *fw, int dir, uint64_t seq, const uint8_t *f, size_t len,
                        size_t want)
{
    fw->d[dir].corrupt++;
    if (len != want) {
        note(&fw->notes, N_CORRUPT, "%s seq %" PRIu64 ": %zu bytes, expected %zu", dir_name(dir),
             seq, len, want);
        return;
    }
    size_t first = 0, ndiff = 0;
    for (size_t i = len; i-- > 0;)
        if (f[i] != fw->expect[i])
            first = i, ndiff++;
    note(&fw->notes, N_CORRUPT,
         "%s seq %" PRIu64 " (%zu bytes): %zu byte(s) differ, the first at offset %zu: 0x%02x, "
         "expected 0x%02x",
         dir_name(dir), seq, len, ndiff, first, f[first], fw->expect[first]);
}

/*
 * Reads the tag of a frame that came out of `port`: returns its direction, or
 * -1 after counting it as unexpected (foreign, a --bad frame, wrong port, never sent).
 */
static int fwd_identify(struct fwd *fw, int port, const uint8_t *f, size_t len, uint64_t *seq)
{
    if (len < TAG_OFF + TAG_LEN) {
        fw->unexpected++;
        note(&fw->notes, N_UNEXPECTED, "a %zu-byte runt came out of port %d", len, port);
        return -1;
    }
    uint8_t dir = f[TAG_OFF + 4];
    *seq = get_le(f + TAG_OFF + 6, 8);
    if (get_le(f + TAG_OFF, 4) != fw->run || f[TAG_OFF + 5] != TAG_FORMAT ||
        (dir > 1 && !(dir & TAG_BAD)))
        note(&fw->notes, N_UNEXPECTED, "a %zu-byte frame not from this run came out of port %d",
             len, port);
    else if (dir & TAG_BAD)
        note(&fw->notes, N_UNEXPECTED,
             "the %zu-byte frame sent into port %d (should be dropped) came out of port %d", len,
             dir & ~TAG_BAD, port);
    else if (*seq >= fw->d[dir].sent)
        note(&fw->notes, N_UNEXPECTED, "%s seq %" PRIu64 " (never sent) came out of port %d",
             dir_name(dir), *seq, port);
    else if (port != 1 - dir)
        note(&fw->notes, N_UNEXPECTED, "%s seq %" PRIu64 " came out of port %d (wrong port)",
             dir_name(dir), *seq, port);
    else
        return dir;
    fw->unexpected++;
    return -1;
}

/* Checks a frame that came out of `port`: which one, whether new, in order, intact. */
static void fwd_check(struct fwd *fw, int port, const uint8_t *f, size_t len)
{
    uint64_t seq;
    int dir = fwd_identify(fw, port, f, len, &seq);
    if (dir < 0)
        return;
    struct direction *d = &fw->d[dir];
    if (seqset_add(&d->seen, seq)) {
        d->dup++;
        note(&fw->notes, N_DUP, "%s seq %" PRIu64 " arrived again", dir_name(dir), seq);
        return;
    }
    enum kind kind = frame_plan(fw->o->seed, dir, seq).kind;
    uint64_t flow = seq % flows, *max = &d->max_seq[kind][flow];
    /* An IPv6 frame's destination address carries its tag, so each one is
     * a flow of its own to a NIC hashing addresses: no order to keep then. */
    bool ordered = !(flows > 1 && kind == K_IPV6) && !(fw->o->vlan_unordered && kind == K_VLAN);
    if (ordered && d->have[kind][flow] && seq < *max) {
        d->reordered++;
        note(&fw->notes, N_REORDERED, "%s seq %" PRIu64 " arrived after seq %" PRIu64,
             dir_name(dir), seq, *max);
    } else {
        *max = seq;
        d->have[kind][flow] = true;
    }
    d->recv++;
    fw->last_new = fw->last_rx;

    size_t want = frame_make(fw->expect, fw->o->seed, fw->run, dir, seq);
    frame_rewrite(fw->expect, fw->o, 1 - dir);
    if (len != want || memcmp(f, fw->expect, len))
        fwd_corrupt(fw, dir, seq, f, len, want);
}

/*
 * --rate R: frame i of a direction is due at start + i / (R / 2), each
 * direction taking half the rate. Returns how many of direction dir are due
 * now (sent or not); a run behind its schedule sends the overdue ones as
 * fast as the window lets it.
 */
static uint64_t fwd_due(const struct fwd *fw, double now)
{
    return (uint64_t)((now - fw->start) * fw->o->rate / 2) + 1;
}

/* Seconds until the window and --rate let a direction send again (0: now);
 * a long time if every direction is done or its window is closed. */
static double fwd_next_send(const struct fwd *fw, double now)
{
    double wait = 86400;
    for (int dir = 0; dir < 2; dir++) {
        const struct direction *d = &fw->d[dir];
        if (d->sent == fw->o->count || d->sent - d->recv >= fw->o->window)
            continue;
        double at = fw->o->rate ? fw->start + d->sent * 2 / fw->o->rate : now;
        if (at - now < wait)
            wait = at > now ? at - now : 0;
    }
    return wait;
}

/* Sends the next frames of direction dir as far as the window and --rate
 * allow; returns whether any. */
static bool fwd_send(struct fwd *fw, int dir)
{
    struct direction *d = &fw->d[dir];
    uint64_t in_flight = d->sent - d->recv;
    uint64_t n = fw->o->count - d->sent;
    if (in_flight >= fw->o->window || !n)
        return false;
    if (n > fw->o->window - in_flight)
        n = fw->o->window - in_flight;
    if (n > BATCH)
        n = BATCH;
    if (fw->o->rate) {
        uint64_t due = fwd_due(fw, now_s());
        if (due <= d->sent)
            return false;
        if (n > due - d->sent)
            n = due - d->sent;
    }

    uint8_t *frames[BATCH];
    size_t lens[BATCH];
    for (uint64_t i = 0; i < n; i++) {
        frames[i] = fw->tx[i];
        lens[i] = frame_make(fw->tx[i], fw->o->seed, fw->run, dir, d->sent + i);
        d->bytes += lens[i];
    }
    /* Mark them sent first: a frame may be back before sendmmsg returns. */
    d->sent += n;
    port_send(&fw->o->ports[dir], frames, lens, (int)n);
    fw->last_tx = now_s();
    return true;
}

/* --bad: frames a forwarder must drop, one of each size into each port. */
static void fwd_send_bad(struct fwd *fw)
{
    static const size_t sizes[] = { 42, 1515, 9000 };
    uint8_t *f = must_alloc(malloc(9000));
    for (int port = 0; port < 2; port++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint64_t rng = mix64(fw->o->seed ^ sizes[i] ^ (uint64_t)port << 32) | 1;
            frame_fill(f, sizes[i], K_UNICAST, port, 0, 1024, &rng);
            if (sizes[i] >= TAG_OFF + TAG_LEN)
                tag_write(f, fw->run, (uint8_t)(TAG_BAD | port), sizes[i]);
            port_send(&fw->o->ports[port], &f, &sizes[i], 1);
        }
    free(f);
}

/* Handles everything waiting on both ports. */
static void fwd_receive(struct fwd *fw, struct rx_burst *b)
{
    for (int port = 0; port < 2; port++) {
        int n;
        do {
            n = port_recv(&fw->o->ports[port], b, BATCH);
            if (n > 0)
                fw->last_rx = now_s();
            for (int i = 0; i < n; i++) {
                size_t len;
                const uint8_t *f = rx_frame(b, i, &len);
                fwd_check(fw, port, f, len);
            }
        } while (n == BATCH);
    }
}

static bool fwd_all_back(const struct fwd *fw)
{
    for (int dir = 0; dir < 2; dir++)
        if (fw->d[dir].recv < fw->o->count)
            return false;
    return true;
}

static void fwd_report(struct fwd *fw, double elapsed)
{
    for (int dir = 0; dir < 2; dir++) {
        struct direction *d = &fw->d[dir];
        for (uint64_t seq = 0; seq < d->sent; seq++)
            if (!seqset_has(&d->seen, seq)) {
                struct plan p = frame_plan(fw->o->seed, dir, seq);
                note(&fw->notes, N_LOST, "%s seq %" PRIu64 " (%zu bytes, %s) never arrived",
                     dir_name(dir), seq, p.len, kind_names[p.kind]);
            }
    }
    notes_flush(&fw->notes);

    struct direction *a = &fw->d[0], *b = &fw->d[1];
    uint64_t frames = a->recv + b->recv;
    if (elapsed > 0 && frames)
        printf("rate: %" PRIu64 " frames in %.3f s: %.1f kpps, %.1f Mbit/s (both directions)\n",
               frames, elapsed, frames / elapsed / 1e3, (a->bytes + b->bytes) * 8 / elapsed / 1e6);
    printf("netharness fwd: sent0=%" PRIu64 " recv1=%" PRIu64 " sent1=%" PRIu64 " recv0=%" PRIu64
           " lost=%" PRIu64 " dup=%" PRIu64 " reordered=%" PRIu64 " corrupt=%" PRIu64
           " unexpected=%" PRIu64 " bytes0=%" PRIu64 " bytes1=%" PRIu64 "\n",
           a->sent, a->recv, b->sent, b->recv, (a->sent - a->recv) + (b->sent - b->recv),
           a->dup + b->dup, a->reordered + b->reordered, a->corrupt + b->corrupt, fw->unexpected,
           a->bytes, b->bytes);
}

static bool fwd_passed(const struct fwd *fw)
{
    for (int dir = 0; dir < 2; dir++) {
        const struct direction *d = &fw->d[dir];
        if (d->sent != fw->o->count || d->recv != d->sent || d->dup || d->reordered || d->corrupt)
            return false;
    }
    return fw->unexpected == 0;
}

/* Since when nothing has arrived with frames outstanding (the last arrival,
 * or the last send if later); -1 with nothing outstanding (waiting for --rate). */
static double fwd_quiet_since(const struct fwd *fw)
{
    if (fw->d[0].sent == fw->d[0].recv && fw->d[1].sent == fw->d[1].recv)
        return -1;
    return fw->last_rx > fw->last_tx ? fw->last_rx : fw->last_tx;
}

/* Sends and receives until every frame is back or, with frames outstanding,
 * nothing arrives for --timeout (after the last frame sent, if that was later). */
static bool fwd_traffic(struct fwd *fw, struct rx_burst *b)
{
    struct opts *o = fw->o;
    while (!fwd_all_back(fw)) {
        bool sent = fwd_send(fw, 0);
        sent |= fwd_send(fw, 1);
        /* Window closed, all sent or none due yet: sleep until something
         * arrives, the next frame is due or the timeout is up. */
        if (!sent) {
            double now = now_s(), quiet = fwd_quiet_since(fw), wait = fwd_next_send(fw, now);
            if (quiet >= 0 && quiet + o->timeout - now < wait)
                wait = quiet + o->timeout - now;
            ports_wait(o, wait);
        }
        fwd_receive(fw, b);
        double quiet = fwd_quiet_since(fw);
        if (quiet >= 0 && now_s() - quiet >= o->timeout) {
            printf("timeout: nothing arrived for %.1f s; outstanding: %" PRIu64
                   " frame(s) 0->1, %" PRIu64 " frame(s) 1->0\n",
                   o->timeout, fw->d[0].sent - fw->d[0].recv, fw->d[1].sent - fw->d[1].recv);
            return false;
        }
    }
    return true;
}

static int run_fwd(struct opts *o)
{
    struct fwd *fw = must_alloc(calloc(1, sizeof *fw));
    struct rx_burst b;
    fw->o = o;
    /* A run id that differs per process, so frames from an earlier run are foreign. */
    fw->run = (uint32_t)mix64((uint64_t)getpid() << 32 ^ (uint64_t)(now_s() * 1e9));
    for (int dir = 0; dir < 2; dir++)
        seqset_reserve(&fw->d[dir].seen, o->count);
    rx_burst_init(&b);
    ports_open(o);

    if (o->bad)
        fwd_send_bad(fw);
    double start = now_s();
    fw->start = fw->last_rx = fw->last_new = fw->last_tx = start;
    if (fwd_traffic(fw, &b)) /* then stragglers: duplicates, wrong ways, --bad frames */
        for (double end = now_s() + o->drain, left; (left = end - now_s()) > 0;) {
            ports_wait(o, left);
            fwd_receive(fw, &b);
        }
    fwd_report(fw, fw->last_new - start);

    int status = fwd_passed(fw) ? 0 : 1;
    ports_close(o);
    for (int dir = 0; dir < 2; dir++)
        free(fw->d[dir].seen.bits);
    free(b.buf);
    free(fw);
    return status;
}

/* ---------------------------------------------------------------- capture */

/* Sequence numbers of one flow from one port: seen, and the highest so far. */
struct seqtrack {
    struct seqset seen;
    bool any;
    uint64_t max;
};

struct capture {
    struct opts *o;
    uint64_t frames, bad_eth, bad_ip, bad_csum, bad_udp, bad_size, gaps, dup, reordered;
    bool any_seq;
    uint64_t first_seq, last_seq;
    uint64_t nflows;        /* --flows F, else 1: a port's frames are one sequence */
    struct seqtrack *track; /* [port * nflows + flow] */
    uint64_t flows_seen;    /* tracks with a frame: (port, flow) pairs */
    struct notes notes;
};

#define UDP_PAYLOAD_OFF (ETH_HDR + 20 + 8)

/*
 * Ethernet II + IPv4 (RFC 791, no options) + UDP (RFC 768) with the exact
 * lengths a generator writes. Returns false, counted, at the first problem.
 */
static bool capture_headers(struct capture *c, int port, const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + ETH_HDR, *udp = ip + 20;
    if (len < ETH_HDR || get_be16(f + 12) != 0x0800) {
        c->bad_eth++;
        note(&c->notes, N_BAD_ETH, "port %d frame %" PRIu64 ": %zu bytes, ethertype 0x%04x", port,
             c->frames, len, len < ETH_HDR ? 0 : get_be16(f + 12));
        return false;
    }
    if (len < ETH_HDR + 20 || ip[0] != 0x45 || get_be16(ip + 2) != len - ETH_HDR) {
        c->bad_ip++;
        note(&c->notes, N_BAD_IP,
             "port %d frame %" PRIu64 ": %zu bytes, version/IHL 0x%02x, total length %u", port,
             c->frames, len, len < ETH_HDR + 20 ? 0 : ip[0],
             len < ETH_HDR + 20 ? 0 : get_be16(ip + 2));
        return false;
    }
    if (inet_csum(ip, 20) != 0) {
        c->bad_csum++;
        note(&c->notes, N_BAD_CSUM, "port %d frame %" PRIu64 ": IPv4 checksum 0x%04x is wrong",
             port, c->frames, get_be16(ip + 10));
        return false;
    }
    /* The payload must hold the sequence number and the timestamp. */
    if (ip[9] != 17 || len < UDP_PAYLOAD_OFF + 16 || get_be16(udp + 4) != len - ETH_HDR - 20) {
        c->bad_udp++;
        note(&c->notes, N_BAD_UDP,
             "port %d frame %" PRIu64 ": protocol %u, %zu bytes, UDP length %u", port, c->frames,
             ip[9], len, len < UDP_PAYLOAD_OFF ? 0 : get_be16(udp + 4));
        return false;
    }
    /* --flows F: the source port names the flow, 1024 + 0..F-1. */
    if (c->o->have_flows && (get_be16(udp) < 1024 || get_be16(udp) - 1024u >= c->nflows)) {
        c->bad_udp++;
        note(&c->notes, N_BAD_UDP,
             "port %d frame %" PRIu64 ": UDP source port %u, not one of 1024..%" PRIu64, port,
             c->frames, get_be16(udp), 1024 + c->nflows - 1);
        return false;
    }
    return true;
}

/* "port 0", or with --flows "port 0 flow 5": where a sequence number was. */
static const char *seq_where(const struct capture *c, int port, uint64_t flow)
{
    static char buf[64];
    if (c->o->have_flows)
        snprintf(buf, sizeof buf, "port %d flow %" PRIu64, port, flow);
    else
        snprintf(buf, sizeof buf, "port %d", port);
    return buf;
}

static void capture_seq(struct capture *c, int port, uint64_t flow, uint64_t seq)
{
    struct seqtrack *t = &c->track[(uint64_t)port * c->nflows + flow];
    if (!c->any_seq)
        c->first_seq = seq;
    c->any_seq = true;
    c->last_seq = seq;
    if (seq >= SEQ_CAP) {
        c->gaps++;
        note(&c->notes, N_GAP, "%s: sequence number %" PRIu64 " is beyond what is tracked",
             seq_where(c, port, flow), seq);
        return;
    }
    if (seqset_add(&t->seen, seq)) {
        c->dup++;
        note(&c->notes, N_DUP, "%s: seq %" PRIu64 " arrived again", seq_where(c, port, flow), seq);
        return;
    }
    if (t->any && seq < t->max) {
        c->reordered++;
        note(&c->notes, N_REORDERED, "%s: seq %" PRIu64 " arrived after seq %" PRIu64,
             seq_where(c, port, flow), seq, t->max);
    } else {
        t->max = seq;
    }
    t->any = true;
}

static void capture_frame(struct capture *c, int port, const uint8_t *f, size_t len)
{
    if (c->o->size && len != c->o->size) {
        c->bad_size++;
        note(&c->notes, N_BAD_SIZE, "port %d frame %" PRIu64 ": %zu bytes, expected %" PRIu64, port,
             c->frames, len, c->o->size);
    }
    if (capture_headers(c, port, f, len))
        capture_seq(c, port, c->o->have_flows ? get_be16(f + ETH_HDR + 20) - UINT64_C(1024) : 0,
                    get_le(f + UDP_PAYLOAD_OFF, 8));
    c->frames++;
}

/* Sequence numbers missing below the highest seen of each port's flows, as
 * ranges. */
static void capture_gaps(struct capture *c)
{
    for (uint64_t i = 0; i < MAX_PORTS * c->nflows; i++) {
        struct seqtrack *t = &c->track[i];
        int port = (int)(i / c->nflows);
        c->flows_seen += t->any;
        for (uint64_t seq = 0; t->any && seq < t->max; seq++) {
            if (seqset_has(&t->seen, seq))
                continue;
            uint64_t end = seq;
            while (!seqset_has(&t->seen, end + 1))
                end++;
            c->gaps += end - seq + 1;
            note(&c->notes, N_GAP, "%s: seq %" PRIu64 "..%" PRIu64 " missing (%" PRIu64 ")",
                 seq_where(c, port, i % c->nflows), seq, end, end - seq + 1);
            seq = end;
        }
        free(t->seen.bits);
    }
}

/* Takes in what waits on every port, up to `limit` frames in all. */
static void capture_receive(struct capture *c, struct rx_burst *b, uint64_t limit, double *last)
{
    for (int port = 0; port < MAX_PORTS; port++) {
        if (!c->o->ports[port].used)
            continue;
        int n;
        do {
            uint64_t room = limit - c->frames;
            if (!room)
                return;
            n = port_recv(&c->o->ports[port], b, room < BATCH ? (int)room : BATCH);
            if (n > 0)
                *last = now_s();
            for (int i = 0; i < n; i++) {
                size_t len;
                const uint8_t *f = rx_frame(b, i, &len);
                capture_frame(c, port, f, len);
            }
        } while (n == BATCH);
    }
}

static int run_capture(struct opts *o)
{
    struct capture *c = must_alloc(calloc(1, sizeof *c));
    struct rx_burst b;
    c->o = o;
    c->nflows = o->have_flows ? o->flows : 1;
    c->track = must_alloc(calloc(MAX_PORTS * c->nflows, sizeof *c->track));
    rx_burst_init(&b);
    ports_open(o);

    double last = now_s();
    while (c->frames < o->count && now_s() - last < o->timeout) {
        ports_wait(o, last + o->timeout - now_s());
        capture_receive(c, &b, o->count, &last);
    }
    if (c->frames < o->count)
        printf("timeout: nothing arrived for %.1f s after %" PRIu64 " of %" PRIu64 " frames\n",
               o->timeout, c->frames, o->count);
    else /* --drain: count what comes after the N-th frame too */
        for (double end = now_s() + o->drain, left; (left = end - now_s()) > 0;) {
            ports_wait(o, left);
            capture_receive(c, &b, UINT64_MAX, &last);
        }
    if (c->frames > o->count)
        printf("extra: %" PRIu64 " frames after the %" PRIu64 "th\n", c->frames - o->count,
               o->count);

    capture_gaps(c);
    notes_flush(&c->notes);
    printf("netharness capture: frames=%" PRIu64 " bad_eth=%" PRIu64 " bad_ip=%" PRIu64
           " bad_csum=%" PRIu64 " bad_udp=%" PRIu64 " bad_size=%" PRIu64 " gaps=%" PRIu64
           " dup=%" PRIu64 " reordered=%" PRIu64 " first_seq=%" PRIu64 " last_seq=%" PRIu64
           " flows=%" PRIu64 "\n",
           c->frames, c->bad_eth, c->bad_ip, c->bad_csum, c->bad_udp, c->bad_size, c->gaps, c->dup,
           c->reordered, c->first_seq, c->last_seq, c->flows_seen);
    bool ok = c->frames == o->count && !(c->bad_eth | c->bad_ip | c->bad_csum | c->bad_udp |
                                         c->bad_size | c->gaps | c->dup | c->reordered);
    ports_close(o);
    free(b.buf);
    free(c->track);
    free(c);
    return ok ? 0 : 1;
}

/* ---------------------------------------------------------------- reflect */

/* Sends each frame waiting on a port straight back into it; returns how many. */
static int reflect_burst(struct port *p, struct rx_burst *b, int max)
{
    int n = port_recv(p, b, max);
    uint8_t *frames[BATCH];
    size_t lens[BATCH];
    for (int i = 0; i < n; i++)
        frames[i] = (uint8_t *)rx_frame(b, i, &lens[i]);
    if (n > 0)
        port_send(p, frames, lens, n);
    return n;
}

static int run_reflect(struct opts *o)
{
    struct rx_burst b;
    uint64_t limit = o->have_count ? o->count : UINT64_MAX, frames = 0;
    rx_burst_init(&b);
    ports_open(o);

    double last = now_s();
    while (frames < limit && now_s() - last < o->timeout) {
        ports_wait(o, last + o->timeout - now_s());
        for (int k = 0; k < MAX_PORTS && frames < limit; k++) {
            if (!o->ports[k].used)
                continue;
            uint64_t room = limit - frames;
            int n = reflect_burst(&o->ports[k], &b, room < BATCH ? (int)room : BATCH);
            if (n > 0)
                last = now_s();
            frames += (uint64_t)n;
        }
    }
    printf("netharness reflect: frames=%" PRIu64 "\n", frames);
    ports_close(o);
    free(b.buf);
    return !o->have_count || frames == o->count ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    struct opts o = { .rewrite = REWRITE_IO, .seed = 1, .window = 64, .timeout = 10.0, .flows = 1 };
    parse_args(&o, argc, argv);
    flows = o.flows;
    /* Lines go out as they are written, in order, also into a pipe or file. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    switch (o.mode) {
    case MODE_FWD:
        return run_fwd(&o);
    case MODE_CAPTURE:
        return run_capture(&o);
    case MODE_REFLECT:
        return run_reflect(&o);
    }
    return 2;
}
