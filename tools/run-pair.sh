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
        -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        $(nic 0 "$4" "$5" "$macb") $(nic 1 "$6" "$7" "$macb") \
        -kernel "$elf" -append "$cmdline" </dev/null 2>&1 |
        sed -u "s/\r$//; s/^/$name | /"
}

log=$(mktemp)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -f "$log"' EXIT INT TERM
echo "run-pair: link A udp $a_gen<->$a_dut, link B udp $b_gen<->$b_dut, ${duration} s"
# The forwarder starts first and runs two seconds longer, so the
# generator's last frames still have a way back.
vm dut 0d "app=fwd duration=$((duration + 2)) $dut_opts" "$a_dut" "$a_gen" "$b_dut" "$b_gen" | tee "$log" &
dut=$!
for _ in $(seq 200); do grep -q '^dut | fwd: ' "$log" && break; sleep 0.05; done
vm gen 0e "app=pktgen duration=$duration $gen_opts" "$a_gen" "$a_dut" "$b_gen" "$b_dut" &
gen=$!
# QEMU exits 1 when ixmetal powers off cleanly (isa-debug-exit: status 0).
status=0
wait $gen || [ $? -eq 1 ] || status=1
wait $dut || [ $? -eq 1 ] || status=1
exit $status
