#!/usr/bin/env python3
"""tests/fuzz/seeds.py - writes the seed corpora, tests/fuzz/corpus/<target>/seed-*.

Each seed is a small valid input, laid out as the target reads it (the
comment at the head of tests/fuzz/fuzz_<target>.c). Run again after changing
a layout; regression inputs (crash-*, named by what they found) are written
by hand, or copied from build/fuzz/crashes/, and left alone here.

    tests/fuzz/seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def cmdline():
    write("cmdline", "ok", b"\xc8/boot/ixmetal.elf app=fwd duration=30 ports=03:00.0,03:00.1")
    write("cmdline", "help", b"\x08tftp://10.0.2.2/boot/ixmetal.elf?x=1 help count=5")
    write("cmdline", "bad", b"\x10app=nope duration=99999")


# --- Multiboot: the structure at 0x10000 (tests/fuzz/fuzz_bootinfo.h) ---------

INFO = 0x10000


def mb1():
    cmd, name, mmap = 0x100, 0x180, 0x200
    entries = b"".join(struct.pack("<IQQI", 20, b, l, t) for b, l, t in
                       [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0x100000, 0x1FF00000, 1)])
    info = bytearray(0x300)
    struct.pack_into("<I", info, 0, 1 << 0 | 1 << 2 | 1 << 6 | 1 << 9)
    struct.pack_into("<II", info, 4, 639, 523264)
    struct.pack_into("<I", info, 16, INFO + cmd)
    struct.pack_into("<II", info, 44, len(entries), INFO + mmap)
    struct.pack_into("<I", info, 64, INFO + name)
    info[cmd:cmd + 13] = b"app=fwd help\0"
    info[name:name + 9] = b"GRUB 2.06"
    info[mmap:mmap + len(entries)] = entries
    write("mb1", "grub", bytes(info))
    fb = bytearray(info)
    struct.pack_into("<I", fb, 0, 1 << 0 | 1 << 12)
    struct.pack_into("<QIIIBB6B", fb, 88, 0xFD000000, 4096, 1024, 768, 32, 1, 16, 8, 8, 8, 0, 8)
    write("mb1", "framebuffer", bytes(fb))


def tag(t, body):
    raw = struct.pack("<II", t, 8 + len(body)) + body
    return raw + b"\0" * (-len(raw) % 8)


def rsdp(revision, rsdt, xsdt):
    r = bytearray(b"RSD PTR " + b"\0" + b"IXMTST" + bytes([revision]) + struct.pack("<I", rsdt))
    r += struct.pack("<IQ", 36, xsdt) + b"\0\0\0\0"
    r[8] = -sum(r[:20]) & 0xFF
    r[32] = -sum(r[:36]) & 0xFF
    return bytes(r) if revision >= 2 else bytes(r[:20])


def mb2():
    mmap = struct.pack("<II", 24, 0) + b"".join(
        struct.pack("<QQII", b, l, t, 0) for b, l, t in
        [(0, 0x9FC00, 1), (0x100000, 0x1FF00000, 1), (0xFEC00000, 0x1000, 2)])
    fb = struct.pack("<QIIIBBH6B", 0xFD000000, 4096, 1024, 768, 32, 1, 0, 16, 8, 8, 8, 0, 8)
    tags = (tag(1, b"app=pktgen rate=1000\0") + tag(2, b"GRUB 2.06\0") + tag(6, mmap) +
            tag(8, fb) + tag(14, rsdp(0, 0xE1000, 0)) + tag(15, rsdp(2, 0xE1000, 0xE1100)) +
            tag(0, b""))
    write("mb2", "bios", struct.pack("<II", 8 + len(tags), 0) + tags)
    uefi = tag(1, b"app=fwd\0") + tag(12, struct.pack("<Q", 0x7F000000)) + tag(6, mmap) + tag(0, b"")
    write("mb2", "uefi", struct.pack("<II", 8 + len(uefi), 0) + uefi)


# --- ACPI: flags, EBDA segment, then the image at 0xE0000 (fuzz_acpi.c) --------

IMAGE = 0xE0000


def sdt(sig, body, revision=1):
    t = bytearray(sig + struct.pack("<IBB", 36 + len(body), revision, 0) + b"IXMTST" +
                  b"IXMTABLE" + struct.pack("<III", 1, 0x49584D20, 1) + body)
    t[9] = -sum(t) & 0xFF
    return bytes(t)


def acpi_image():
    """RSDP at 0xE0000; RSDT 0xE1000, XSDT 0xE1100; MADT, MCFG, FADT, DSDT, HPET after."""
    at = {"APIC": 0xE1200, "MCFG": 0xE1400, "FACP": 0xE1600, "DSDT": 0xE1800, "HPET": 0xE1A00}
    madt = struct.pack("<II", 0xFEE00000, 1) + b"".join(
        struct.pack("<BBBBI", 0, 8, i, i, 1) for i in range(4)) + struct.pack(
        "<BBHIII", 9, 16, 0, 300, 1, 300) + struct.pack("<BBBBI", 1, 12, 0, 0, 0xFEC00000) + b"\0" * 4
    mcfg = b"\0" * 8 + struct.pack("<QHBBI", 0xB0000000, 0, 0, 255, 0)
    fadt = bytearray(244 - 36)
    struct.pack_into("<II", fadt, 0, 0, at["DSDT"])
    struct.pack_into("<IBB", fadt, 48 - 36, 0xB2, 0xF1, 0xF0)
    struct.pack_into("<IIII", fadt, 56 - 36, 0x600, 0, 0x604, 0)
    struct.pack_into("<Q", fadt, 140 - 36, at["DSDT"])
    # Scope(\) { Name(_S5_, Package(4) { 5, 5, 0, 0 }) } in AML, after some bytes of noise.
    dsdt = b"\x10\x0c\\_SB_\x5b\x80" + b"\x08_S5_\x12\x08\x04\x0a\x05\x0a\x05\x00\x00"
    hpet = struct.pack("<IBBBBQBHB", 0x8086A201, 0, 64, 0, 0, 0xFED00000, 0, 0x80, 0)
    tables = {"APIC": sdt(b"APIC", madt), "MCFG": sdt(b"MCFG", mcfg),
              "FACP": sdt(b"FACP", bytes(fadt), 6), "DSDT": sdt(b"DSDT", dsdt, 2),
              "HPET": sdt(b"HPET", hpet)}
    order = ["APIC", "MCFG", "FACP", "HPET"]
    img = bytearray(0x1C00)
    rs = rsdp(2, 0xE1000, 0xE1100)
    img[0:36] = rs
    rsdt = sdt(b"RSDT", b"".join(struct.pack("<I", at[s]) for s in order))
    xsdt = sdt(b"XSDT", b"".join(struct.pack("<Q", at[s]) for s in order))
    img[0x1000:0x1000 + len(rsdt)] = rsdt
    img[0x1100:0x1100 + len(xsdt)] = xsdt
    for s, t in tables.items():
        o = at[s] - IMAGE
        img[o:o + len(t)] = t
    return bytes(img)


def acpi():
    img = acpi_image()
    write("acpi", "bios-scan", b"\x00\x00\x00" + img)
    write("acpi", "loader-v2", b"\x05\x00\x00" + img)
    v1 = bytearray(img)
    v1[0:20] = rsdp(0, 0xE1000, 0)
    v1[20:36] = b"\0" * 16
    write("acpi", "loader-v1", b"\x03\x00\x00" + bytes(v1))


def pktgen_frame(flow, seq, sent_at, size=60):
    """A frame as apps/pktgen.c sends it (its head has the layout)."""
    f = bytearray(size)
    f[0:6] = b"\x02\0\0\0\0\x01"
    f[6:12] = b"\x52\x54\0\x12\x34\x56"
    f[12:14] = b"\x08\x00"
    ip = bytearray(b"\x45\0" + struct.pack(">H", size - 14) + b"\0" * 4 + b"\x40\x11\0\0" +
                   bytes([10, 0, 0, 1, 10, 0, 0, 2]))
    c = sum(struct.unpack(">10H", ip))
    while c >> 16:
        c = (c & 0xFFFF) + (c >> 16)
    ip[10:12] = struct.pack(">H", ~c & 0xFFFF)
    f[14:34] = ip
    f[34:42] = struct.pack(">HHHH", 1024 + flow, 9000, size - 34, 0)
    f[42:58] = struct.pack("<QQ", seq, sent_at)
    return bytes(f)


def pktgen_rx():
    def rec(port, frame):
        return bytes([port]) + struct.pack("<H", len(frame)) + frame
    inorder = b"".join(rec(0, pktgen_frame(k % 4, k // 4, 1000 * k)) for k in range(8))
    write("pktgen_rx", "in-order", b"\x03\x00" + inorder)
    mixed = (rec(0, pktgen_frame(0, 0, 5)) + rec(1, pktgen_frame(1, 3, 5)) +
             rec(1, pktgen_frame(1, 1, 5)) + rec(0, pktgen_frame(0, 0, 5, 128)) +
             rec(0, b"\xff" * 14))
    write("pktgen_rx", "gaps-reorder", b"\x01\x01" + mixed)


# --- intel_rx: ring, spare buffers, then 4-byte steps (fuzz_intel_rx.c) ----------

def wb(length, eop=True):
    """Op 0: the device writes back the next descriptor, DD set."""
    return bytes([0, length & 0xFF, length >> 8, 0x02 if eop else 0x00])


def rx(n):
    return bytes([2, n - 1, 0, 0])


def intel_rx():
    good = b"".join(wb(60 + 97 * k) for k in range(8)) + rx(32)
    write("intel_rx", "frames", b"\x00\x40" + good + good)
    # byte 0 / 4 % 3: 1 rewrites with PSHUFB, 2 a byte at a time
    write("intel_rx", "frames-pshufb", b"\x04\x40" + good + good)
    write("intel_rx", "frames-bytes", b"\x08\x40" + good + good)
    split = wb(2048, False) + wb(2048, False) + wb(100) + rx(8) + wb(64) + rx(8)
    lies = (wb(3000) + wb(20) + wb(1600) + wb(100, False) + wb(64) + rx(8) +
            bytes([1, 5, 0x10, 0x02]) + rx(8) + bytes([3, 0, 3, 0]) + wb(64) + rx(8))
    write("intel_rx", "split-and-lies", b"\x01\x04" + split + lies)


# --- pci_caps: configuration space, BARs, pairs, answers (fuzz_pci_caps.c) -------

def vcap(at, nxt, cfg_type, bar, offset, length, extra=b""):
    """virtio 1.2 §4.1.4: a vendor-specific capability at config offset at."""
    body = struct.pack("<BBBBBBHII", 0x09, nxt, 16 + len(extra), cfg_type, bar, 0, 0, offset,
                       length) + extra
    return at, body


def config_space(caps, status=0x10, first=0x40):
    c = bytearray(256)
    struct.pack_into("<HHHH", c, 0, 0x1AF4, 0x1041, 0x0006, status)
    c[0x34] = first
    for at, body in caps:
        c[at:at + len(body)] = body
    return bytes(c)


def pci_caps():
    caps = [vcap(0x40, 0x50, 1, 4, 0x0000, 0x38), vcap(0x50, 0x60, 3, 4, 0x1000, 0x4),
            vcap(0x60, 0x74, 4, 4, 0x2000, 0x100),
            vcap(0x74, 0x00, 2, 4, 0x3000, 0x1000, struct.pack("<I", 4))]
    # Answers in turn: status 0 (reset done), features 0 and 1, FEATURES_OK kept, queue sizes.
    answers = struct.pack("<9I", 0, 0x00010020, 1, 0x0B, 256, 256, 0, 0, 0)
    write("pci_caps", "modern", config_space(caps) + b"\x04\x00" + answers)
    loop = [vcap(0x40, 0x50, 1, 4, 0, 0x38), vcap(0x50, 0x40, 4, 4, 0x2000, 0x100)]
    write("pci_caps", "loop", config_space(loop) + b"\x05\x00" + answers)
    write("pci_caps", "legacy", config_space([], status=0, first=0) + b"\x01\x00" +
          struct.pack("<6I", 0, 0x08010020, 256, 256, 0, 0))


# --- virtio_used: device, then 8-byte steps (fuzz_virtio_used.c) ------------------

def vstep(op, a=0, b=0, c=0):
    return struct.pack("<BBHI", op, a, b, c)


def virtio_used():
    mac, mrg, status, ctrl, mq, any_layout = 1 << 5, 1 << 15, 1 << 16, 1 << 17, 1 << 22, 1 << 27
    def head(features, exp=8, pairs=1, max_pairs=1, ctrl_id=0, ack=0):
        return struct.pack("<IBHBHBBB", features, exp, 0, pairs - 1, max_pairs, 1, ctrl_id, ack)
    # Truthful: frames of 60 to 1514 bytes (+ the 12-byte header), each in one buffer.
    frames = b"".join(vstep(0, 0x11, 12 + n) for n in (60, 64, 128, 1514))
    sends = vstep(3, 3, 0) + vstep(4, 1) + vstep(4, 1) + vstep(4, 1) + vstep(4, 1)
    ok = frames + vstep(2, 31) + sends + vstep(5) + frames + vstep(7)
    write("virtio_used", "truthful", head(mac | mrg | status | any_layout) + ok)
    lies = (vstep(0, 0x10, 72, 5000) + vstep(0, 0x11, 65535) + vstep(0, 0x31, 72) +
            vstep(0, 0x01, 72) + vstep(0, 0x15, 12 + 1600) + vstep(2, 31) + vstep(1, 0, 3000) +
            vstep(2, 31) + vstep(1, 0, 65536 - 3000) + vstep(3, 1) + vstep(4, 0, 0, 7) +
            vstep(4, 1) + vstep(4, 0, 0, 0) + vstep(6, 0, 900) + vstep(3, 1) + vstep(7))
    write("virtio_used", "lies", head(mac | mrg | status | any_layout) + frames + lies)
    write("virtio_used", "two-descriptors", head(mac | status, exp=6) +
          b"".join(vstep(0, 0x11, 10 + n) for n in (60, 300)) + vstep(7) + sends)
    write("virtio_used", "mq", head(mac | mrg | status | any_layout | ctrl | mq, pairs=2,
                                    max_pairs=2) + ok)
    write("virtio_used", "mq-refused", head(mac | mrg | any_layout | ctrl | mq, pairs=4,
                                            max_pairs=3, ack=1) + ok)


def main():
    cmdline()
    virtio_used()
    pci_caps()
    intel_rx()
    pktgen_rx()
    mb1()
    mb2()
    acpi()


if __name__ == "__main__":
    main()
