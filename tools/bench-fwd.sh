#!/usr/bin/env bash
# tools/bench-fwd.sh - how fast the dut forwards, against QEMU's own ceiling.
#
# Measured in one run with one harness (tools/netharness fwd, both
# directions, every frame checked):
#   1. a QEMU hub joining two dgram netdevs, no guest at all: the most QEMU's
#      network path carries on this machine (the ceiling);
#   2. a VM running app=fwd idle=0, polling without pause (a dedicated box);
#   3. the same with idle=IDLE: the core halts when a pass finds nothing,
#      and then through two igb NICs (82576) instead of virtio-net;
#   4. fwd idle=IDLE between two modern virtio-nets (iommu_platform=on) on
#      q35, without an IOMMU and then behind QEMU's intel-iommu (every NIC's
#      DMA confined, kernel/iommu.c): the guest's CPU time per frame should
#      not change, since translating is the IOMMU's work (here QEMU's main
#      thread's, where virtio-net's device model runs), not the guest's.
#      (Not igb: its transmit runs inside the guest's register write, on the
#      vCPU thread, so its translation would count as the guest's.)
# QEMU runs on CPU 0 and the harness on CPU 1 (FACTS.md). For each run it
# also prints the CPU time per frame of QEMU's main thread (where the netdevs
# and the virtio-net device model run) and of its vCPU thread (the guest),
# from /proc/PID/task/TID/schedstat, so where the time goes is visible.
# As root, net.core.rmem_default is raised to 4 MiB while each QEMU opens its
# sockets, then put back (FACTS.md: QEMU sets no SO_RCVBUF of its own).
# Usage: tools/bench-fwd.sh [frames per direction] [window] [idle us]  (200000 64 200)
set -eu
count=${1:-200000}
window=${2:-64}
idle=${3:-200}
harness=build/netharness
elf=build/ixmetal.elf
pin_qemu="taskset -c 0"
pin_harness="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { pin_qemu=""; pin_harness=""; echo "bench-fwd: one CPU: not pinned"; }

rmem_was=$(sysctl -n net.core.rmem_default)
rmem_raise() { [ "$(id -u)" = 0 ] && sysctl -qw net.core.rmem_default=4194304 || true; }
rmem_restore() { [ "$(id -u)" = 0 ] && sysctl -qw net.core.rmem_default="$rmem_was" || true; }
[ "$(id -u)" = 0 ] || echo "bench-fwd: not root: QEMU's sockets keep the default buffer size"

log=$(mktemp)
child=
cleanup() {
    [ -n "$child" ] && kill "$child" 2>/dev/null
    rmem_restore
    rm -f "$log"
}
trap cleanup EXIT

free_ports() {
    python3 -c "
import socket
ss = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
for s in ss: s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in ss))"
}
nd() { echo "dgram,id=$1,local.type=inet,local.host=127.0.0.1,local.port=$2,remote.type=inet,remote.host=127.0.0.1,remote.port=$3"; }
# Waits until process $1 (QEMU) has bound UDP ports $2... on 127.0.0.1, as
# /proc/net/udp lists them (local address 0100007F:port, in hex), at most
# 10 s; says so and fails if it has not, or has exited.
bound() {
    local pid=$1 p missing
    shift
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || { echo "bench-fwd: QEMU exited before binding its sockets"; return 1; }
        missing=
        for p in "$@"; do
            grep -q " 0100007F:$(printf %04X "$p") " /proc/net/udp || missing=$p
        done
        [ -z "$missing" ] && return 0
        sleep 0.05
    done
    echo "bench-fwd: QEMU had not bound UDP ports $* after 10 s"
    return 1
}

# Nanoseconds on CPU so far: "main vcpus" of QEMU process $1.
cpu_ns() {
    local main=0 vcpu=0 t
    for t in /proc/"$1"/task/*; do
        read -r ns _ <"$t/schedstat"
        if [ "${t##*/}" = "$1" ]; then main=$ns; else case "$(cat "$t/comm")" in
            CPU*|ALL*) vcpu=$((vcpu + ns)) ;; esac; fi
    done
    echo "$main $vcpu"
}

# Runs the harness through QEMU process $1 with ports $2..$5; sets $rate
# (frames/s, both directions), $main_ns and $vcpu_ns (CPU ns per frame of
# QEMU's main thread and of its vCPU threads) and $cost (both, in words).
measure() {
    local out m0 v0 m1 v1 frames secs
    read -r m0 v0 <<<"$(cpu_ns "$1")"
    out=$($pin_harness "$harness" fwd --port 0="$3:$2" --port 1="$5:$4" --count "$count" --window "$window")
    read -r m1 v1 <<<"$(cpu_ns "$1")"
    echo "  $(echo "$out" | tail -1)"
    read -r frames secs <<<"$(echo "$out" | sed -n 's/^rate: \([0-9]*\) frames in \([0-9.]*\) s.*/\1 \2/p')"
    rate=$(awk -v f="$frames" -v s="$secs" 'BEGIN { printf "%d", f / s }')
    main_ns=$(((m1 - m0) / frames))
    vcpu_ns=$(((v1 - v0) / frames))
    cost="QEMU main thread $main_ns ns/frame, vCPU $vcpu_ns ns/frame"
}

hub() {
    local qa ha qb hb
    read -r qa ha qb hb <<<"$(free_ports)"
    rmem_raise
    $pin_qemu qemu-system-x86_64 -accel tcg -M none -nodefaults -display none \
        -netdev "$(nd a "$qa" "$ha")" -netdev "$(nd b "$qb" "$hb")" \
        -netdev hubport,id=pa,hubid=0,netdev=a -netdev hubport,id=pb,hubid=0,netdev=b 2>/dev/null &
    child=$!
    bound "$child" "$qa" "$qb" || exit 1
    rmem_restore
    measure "$child" "$qa" "$ha" "$qb" "$hb"
    kill "$child"; wait "$child" 2>/dev/null || true; child=
}

# dut "fwd options" [machine options] [NIC device, with its properties]
dut() {
    local qa ha qb hb machine=${2:--M pc} nic=${3:-virtio-net-pci,romfile=,disable-legacy=on}
    read -r qa ha qb hb <<<"$(free_ports)"
    : >"$log"
    rmem_raise
    # shellcheck disable=SC2086 # machine: several words
    $pin_qemu qemu-system-x86_64 -name dut,debug-threads=on -accel tcg $machine -m 256M -display none \
        -no-reboot -serial "file:$log" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -netdev "$(nd a "$qa" "$ha")" -device "$nic,netdev=a,addr=3" \
        -netdev "$(nd b "$qb" "$hb")" -device "$nic,netdev=b,addr=5" \
        -kernel "$elf" -append "app=fwd duration=600 $1" 2>/dev/null &
    child=$!
    for _ in $(seq 200); do grep -q '^fwd:' "$log" 2>/dev/null && break; sleep 0.05; done
    rmem_restore
    grep -q '^fwd:' "$log" || { echo "bench-fwd: the dut VM did not start fwd:"; cat "$log"; exit 1; }
    measure "$child" "$qa" "$ha" "$qb" "$hb"
    [ -n "${dut_ends:-}" ] && return # guest_cost waits for it
    kill "$child"; wait "$child" 2>/dev/null || true; child=
}

echo "bench-fwd: $count frames each way, window $window, TCG, QEMU on CPU 0, harness on CPU 1"
hub
ceiling=$rate
hub_ns=$main_ns
echo "  QEMU hub, no guest (the ceiling): $rate frames/s   [$cost]"
dut "idle=0"
echo "  dut VM, app=fwd idle=0:           $rate frames/s = $((rate * 100 / ceiling))% of the ceiling   [$cost]"
dut "idle=$idle"
echo "  dut VM, app=fwd idle=$idle:         $rate frames/s = $((rate * 100 / ceiling))% of the ceiling   [$cost]"
echo "  (goal: 90% or more)"
# QEMU's main thread moves every frame in both setups and is the busiest
# thread on CPU 0; with a guest it also runs the virtio-net device model.
# Even a guest that cost nothing could not go faster than that thread.
echo "  QEMU's main thread spends $main_ns ns per frame with the virtio-net model, $hub_ns as a hub:"
echo "  any guest here is capped near $((hub_ns * 100 / main_ns))% of the ceiling by QEMU's own device model"
# The same through two igb (82576) NICs: QEMU's igb sends inside the
# guest's TDT write, on the vCPU thread, and receives on the main thread.
dut "idle=$idle" "-M pc" "igb,romfile="
echo "  dut VM, igb, app=fwd idle=$idle:    $rate frames/s = $((rate * 100 / ceiling))% of the ceiling   [$cost]"
echo "  (goal: 90% or more; QEMU's main thread $main_ns ns/frame against $hub_ns as a hub)"

# The IOMMU's cost: the same fwd, q35, without and with it, under
# -icount shift=0, where the guest's TSC counts its instructions: fwd's
# last line then gives the guest's instructions per frame (in the passes
# that moved frames). fwd runs for $icount_s s of guest time, then prints it.
icount_s=20
viommu=virtio-net-pci,romfile=,disable-legacy=on,iommu_platform=on
guest_cost() { # waits for the dut to end; sets $per_frame from fwd's last line
    wait "$child" 2>/dev/null || true; child=
    per_frame=$(sed -n 's/^fwd: \([0-9]*\) TSC ticks per frame.*/\1/p' "$log")
    [ -n "$per_frame" ] || { echo "bench-fwd: fwd gave no cost line:"; tail -5 "$log"; exit 1; }
}
dut_ends=1
dut "idle=$idle duration=$icount_s" "-M q35 -icount shift=0" "$viommu"
guest_cost
plain=$per_frame plain_main=$main_ns
echo "  dut VM, q35, -icount shift=0, fwd idle=$idle, no IOMMU:    $rate frames/s, guest $per_frame instructions/frame   [$cost]"
dut "idle=$idle duration=$icount_s" "-M q35 -icount shift=0 -device intel-iommu" "$viommu"
guest_cost
grep -q 'DMA confined by the IOMMU' "$log" || { echo "bench-fwd: the NICs were not confined:"; grep '^nic\|^iommu' "$log"; exit 1; }
echo "  dut VM, q35, -icount shift=0, fwd idle=$idle, behind VT-d: $rate frames/s, guest $per_frame instructions/frame   [$cost]"
echo "  the guest's instructions per frame behind the IOMMU: $per_frame against $plain without;"
echo "  QEMU's main thread (the device model and its translation): $main_ns ns/frame against $plain_main"
