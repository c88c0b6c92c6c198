#!/usr/bin/env bash
# tools/bench-fwd.sh - how fast the dut forwards, against QEMU's own ceiling.
#
# Both measured in the same run with the same harness (tools/netharness fwd,
# both directions, every frame checked): first through a QEMU hub joining two
# dgram netdevs with no guest at all (the most QEMU's network path carries on
# this machine), then through a VM running app=fwd. QEMU runs on CPU 0 and
# the harness on CPU 1 (FACTS.md: on 2 CPUs they must not share one).
# Usage: tools/bench-fwd.sh [frames per direction] [window]   (200000, 64)
set -eu
count=${1:-200000}
window=${2:-64}
harness=build/netharness
elf=build/ixmetal.elf
pin_qemu="taskset -c 0"
pin_harness="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { pin_qemu=""; pin_harness=""; echo "bench-fwd: one CPU: not pinned"; }

free_ports() {
    python3 -c "
import socket
ss = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
for s in ss: s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in ss))"
}
nd() { echo "dgram,id=$1,local.type=inet,local.host=127.0.0.1,local.port=$2,remote.type=inet,remote.host=127.0.0.1,remote.port=$3"; }

# Prints the harness's frames per second (both directions together).
measure() {
    local out
    out=$($pin_harness "$harness" fwd --port 0="$2:$1" --port 1="$4:$3" --count "$count" --window "$window")
    echo "$out" | tail -1 >&2
    echo "$out" | sed -n 's/^rate: \([0-9]*\) frames in \([0-9.]*\) s.*/\1 \2/p' |
        awk '{ printf "%d", $1 / $2 }'
}

read -r qa ha qb hb <<<"$(free_ports)"
$pin_qemu qemu-system-x86_64 -accel tcg -M none -nodefaults -display none \
    -netdev "$(nd a "$qa" "$ha")" -netdev "$(nd b "$qb" "$hb")" \
    -netdev hubport,id=pa,hubid=0,netdev=a -netdev hubport,id=pb,hubid=0,netdev=b 2>/dev/null &
hub=$!
sleep 0.5
ceiling=$(measure "$qa" "$ha" "$qb" "$hb")
kill $hub; wait $hub 2>/dev/null || true

read -r qa ha qb hb <<<"$(free_ports)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
$pin_qemu qemu-system-x86_64 -accel tcg -M pc -m 256M -display none -no-reboot -serial "file:$log" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -netdev "$(nd a "$qa" "$ha")" -device virtio-net-pci,netdev=a,addr=3,romfile=,disable-legacy=on \
    -netdev "$(nd b "$qb" "$hb")" -device virtio-net-pci,netdev=b,addr=4,romfile=,disable-legacy=on \
    -kernel "$elf" -append "app=fwd duration=600" &
vm=$!
for _ in $(seq 200); do grep -q '^fwd:' "$log" 2>/dev/null && break; sleep 0.05; done
guest=$(measure "$qa" "$ha" "$qb" "$hb")
kill $vm; wait $vm 2>/dev/null || true

echo "bench-fwd: $count frames each way, window $window, TCG"
echo "  QEMU hub, no guest (the ceiling): $ceiling frames/s"
echo "  dut VM running app=fwd:           $guest frames/s"
echo "  ratio: $((guest * 100 / ceiling))% (goal: 90% or more)"
