#!/usr/bin/env bash
# tools/bench-boot.sh - how fast ixmetal boots under QEMU: wall time from
# starting QEMU to its exit (app=info, -kernel, power-off through
# isa-debug-exit) and the kernel's own init time as it reports it.
# Usage: tools/bench-boot.sh [runs] [machine]   (defaults: 20, pc)
set -eu
runs=${1:-20}
machine=${2:-pc}
elf=build/ixmetal.elf
accel=${ACCEL:-tcg}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
walls=() inits=()
for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    qemu-system-x86_64 -accel "$accel" -M "$machine" -m 256M -display none -no-reboot \
        -serial "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$elf" -append app=info || true
    t1=$(date +%s%N)
    walls+=($(( (t1 - t0) / 1000 )))
    inits+=("$(sed -n 's/^init: \([0-9]*\) us.*/\1/p' "$log" | tr -d '\r')")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {printf "min %d, median %d, max %d", v[1], v[int((NR+1)/2)], v[NR]}'; }
echo "bench-boot: $runs runs, -M $machine, accel $accel"
echo "  QEMU start to power-off: $(stats "${walls[@]}") us"
echo "  kernel init (entry to app start): $(stats "${inits[@]}") us"
