#!/usr/bin/env bash
# tools/run-pair.sh - the main job, as in the ixy paper's testbed: a
# generator box cabled back to back to a forwarding box with two links.
#
#   VM "gen" (app=pktgen)  port 0 ----- link A ----- port 0  VM "dut" (app=fwd)
#                          port 1 ----- link B ----- port 1
#
# Each link is a pair of QEMU dgram netdevs on loopback UDP ports picked free
# now. Both consoles stream here, each line prefixed with its VM's name;
# after DURATION seconds both print their final counters and power off.
# Then one line accounts for every frame pktgen lost: those the host's
# sockets dropped between the VMs (/proc/net/udp's drops column of QEMU's
# four sockets, watched while they exist) plus those ixmetal dropped (the
# drops= of every port's final line, gen's and dut's). If the two do not
# add up to lost=, the line says so and the script exits 1.
#
# Usage: tools/run-pair.sh [duration] [gen options] [dut options]
#   e.g. tools/run-pair.sh 10 "rate=20000 size=128" "mode=macswap"
set -eu -o pipefail
duration=${1:-10}
gen_opts=${2:-}
dut_opts=${3:-}
elf=${ELF:-build/ixmetal.elf}
qemu=${QEMU:-qemu-system-x86_64}
accel=${ACCEL:-tcg}

free_ports() { # prints n UDP ports that were free a moment ago
    python3 -c "
import socket, sys
ss = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in ss))" "$1"
}
read -r a_gen a_dut b_gen b_dut <<<"$(free_ports 4)"

# One end of a link: this VM listens on $2 and sends to $3.
nic() {
    echo "-netdev dgram,id=n$1,local.type=inet,local.host=127.0.0.1,local.port=$2,remote.type=inet,remote.host=127.0.0.1,remote.port=$3"
    echo "-device virtio-net-pci,netdev=n$1,addr=$((3 + $1)),romfile=,mac=52:54:00:00:$4:0$1"
}

vm() { # name, mac byte, cmdline, then the two NICs' port pairs
    local name=$1 macb=$2 cmdline=$3
    # shellcheck disable=SC2046
    "$qemu" -accel "$accel" -M pc -m 256M -smp 1 -display none -no-reboot -monitor none \
        -qmp "unix:$tmp/$name.qmp,server=on,wait=off" \
        -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        $(nic 0 "$4" "$5" "$macb") $(nic 1 "$6" "$7" "$macb") \
        -kernel "$elf" -append "$cmdline" </dev/null 2>&1 |
        sed -u "s/\r$//; s/^/$name | /"
}

# QEMU's sockets, found in /proc/net/udp by their local address: their
# drops (the last column) read every 20 ms from when each appears until it
# is closed, when QEMU exits. Prints "port first last" for each port.
udp_watch() {
    python3 -c '
import sys, time
ports = [int(p) for p in sys.argv[1:]]
want = {"0100007F:%04X" % p: p for p in ports}
first, last, gone = {}, {}, time.monotonic() + 30
while True:
    now = {}
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            col = line.split()
            if col[1] in want:  # one socket per port: a second one is summed
                p = want[col[1]]
                now[p] = now.get(p, 0) + int(col[-1])
    for p, d in now.items():
        first.setdefault(p, d)
        last[p] = d
    if now:
        gone = None
    elif first or time.monotonic() > gone:
        break  # all closed, or none opened within 30 s
    time.sleep(0.02)
for p in ports:
    print(p, first.get(p, "-"), last.get(p, "-"))
' "$@"
}

# One QMP command (stop, cont) to VM $1.
qmp() {
    python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()  # the greeting
for cmd in ("qmp_capabilities", sys.argv[2]):
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "error" in r:
            sys.exit("run-pair: QMP %s: %s" % (cmd, r["error"]))
        if "return" in r:
            break
' "$tmp/$1.qmp" "$2"
}
tmp=$(mktemp -d)
log=$tmp/dut.log glog=$tmp/gen.log udp=$tmp/udp
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
echo "run-pair: link A udp $a_gen<->$a_dut, link B udp $b_gen<->$b_dut, ${duration} s"
udp_watch "$a_gen" "$a_dut" "$b_gen" "$b_dut" >"$udp" &
watch=$!
# The forwarder starts first and runs two seconds longer, so the
# generator's last frames still have a way back. Its two seconds must not
# go by while the generator boots, which on a loaded machine can take
# seconds: once fwd runs, the forwarder is stopped (QMP stop freezes a TCG
# guest's TSC, and ixmetal's clock with it) until the generator's app
# starts, before it sends its first frame.
vm dut 0d "app=fwd duration=$((duration + 2)) $dut_opts" "$a_dut" "$a_gen" "$b_dut" "$b_gen" | tee "$log" &
dut=$!
for _ in $(seq 200); do grep -q '^dut | fwd: ' "$log" && break; sleep 0.05; done
qmp dut stop
vm gen 0e "app=pktgen duration=$duration $gen_opts" "$a_gen" "$a_dut" "$b_gen" "$b_dut" | tee "$glog" &
gen=$!
for _ in $(seq 6000); do grep -q '^gen | app: pktgen' "$glog" && break; sleep 0.005; done
qmp dut cont
# QEMU exits 1 when ixmetal powers off cleanly (isa-debug-exit: status 0).
status=0
wait $gen || [ $? -eq 1 ] || status=1
wait $dut || [ $? -eq 1 ] || status=1
wait $watch || status=1

# The account: lost = host drops + ixmetal drops, to the frame.
host=0 socks=
for end in "gen port 0" "dut port 0" "gen port 1" "dut port 1"; do
    read -r port first last
    if [ "$first" = - ]; then
        echo "run-pair: udp $port never appeared in /proc/net/udp; its drops are unknown"
        status=1
        continue
    fi
    host=$((host + last - first))
    socks="$socks${socks:+,} $end (udp $port) $((last - first))"
done <"$udp"
drops() { # the sum of drops= over the final line of each of VM $1's ports
    awk -v vm="$1" '$1 == vm && $3 == "final" && $4 ~ /^[0-9a-f]+:/ {
        for (i = 5; i <= NF; i++) if ($i ~ /^drops=/) n += substr($i, 7) } END { print n + 0 }' "$2"
}
gen_drops=$(drops gen "$glog")
dut_drops=$(drops dut "$log")
lost=$(sed -n 's/^gen | pktgen sent=.* lost=\([0-9]*\) .*/\1/p' "$glog")
echo "run-pair: frames the host dropped at QEMU's sockets (/proc/net/udp):$socks"
if [ -z "$lost" ]; then
    echo "run-pair: pktgen printed no lost=: nothing to account for"
    status=1
elif [ "$lost" -eq $((host + gen_drops + dut_drops)) ]; then
    echo "run-pair: lost=$lost = host $host + ixmetal $((gen_drops + dut_drops))" \
        "(gen $gen_drops, dut $dut_drops): every frame accounted for"
else
    echo "run-pair: lost=$lost but host $host + ixmetal $((gen_drops + dut_drops))" \
        "(gen $gen_drops, dut $dut_drops) = $((host + gen_drops + dut_drops)):" \
        "$((lost - host - gen_drops - dut_drops)) frames NOT accounted for"
    status=1
fi
exit $status
