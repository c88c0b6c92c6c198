#!/usr/bin/env bash
# tools/bench-ixgbe.sh - the ixgbe driver's cost per forwarded frame, on the
# host, against two 82599 model ports (tools/bench-ixgbe.c). Prints:
#   - TSC cycles per forwarded frame, the model on a thread of its own;
#   - instructions per forwarded frame, counted by valgrind's callgrind in
#     bench_fwd_pass (both ports' rx_batch and tx_batch, the mempool, the
#     app's loop), less the model's own instructions behind the tail-register
#     writes (ixgbe_model_write), which on hardware are one store each.
# Anchors (FACTS.md): ixy's C driver 127 instructions and ~94-104 cycles per
# forwarded frame at batch 32 on real 82599s; DPDK's l2fwd 62 cycles.
# With 3 CPUs or more it also runs 2 workers, each on its own queue pair
# (RSS), and prints how much more they forward than 1.
# Usage: tools/bench-ixgbe.sh [frames]   (default 2000000; callgrind takes 200000)
set -eu
frames=${1:-2000000}
bin=build/bench-ixgbe
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "bench-ixgbe: fwd between two 82599 model ports on the host, batch 32, 60-byte frames"
cpus=$(nproc)
mpps() { sed -n 's/.* s, \([0-9.]*\) Mpps.*/\1/p'; }
if [ "$cpus" -ge 2 ]; then
    one=$("$bin" threads 1 "$frames")
    echo "$one" | sed 's/^/  /'
else
    echo "  one CPU: the model cannot have a thread of its own; no cycle count"
fi
# Two workers, each with a queue pair (RSS over 64 flows), need a CPU each
# and one more for the model, or the threads only take turns.
if [ "$cpus" -ge 3 ]; then
    two=$("$bin" threads 2 "$frames")
    echo "$two" | sed 's/^/  /'
    awk -v a="$(echo "$one" | mpps)" -v b="$(echo "$two" | mpps)" \
        'BEGIN { printf "  2 workers forward %.2f times what 1 does (goal: 1.8 or more)\n", b / a }'
else
    echo "  2 workers: this machine has $cpus CPUs, and 2 workers and the model need 3; no ratio"
fi
if ! command -v valgrind >/dev/null; then
    echo "  valgrind is not installed (tools/deps.sh installs it): no instruction count"
    exit 0
fi
# Instructions per forwarded frame in io mode, then in macswap mode (each
# frame's two MAC fields exchanged, apps/fwd_rewrite.h).
for mode in io macswap; do
    valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=bench_fwd_pass \
        "$bin" single 200000 "$mode" >/dev/null 2>&1
    callgrind_annotate --inclusive=yes "$out" | awk -v mode="$mode" '
        /bench_fwd_pass \[/ { gsub(",", "", $1); pass = $1 }
        /ixgbe_model_write \[/ { gsub(",", "", $1); model = $1 }
        END {
            printf "  callgrind, mode %s: %d instructions in bench_fwd_pass, %d of them the model'"'"'s\n", mode, pass, model
            printf "  %.1f instructions per forwarded frame, mode %s (goal: 90 or fewer; ixy: 127)\n", (pass - model) / 200000, mode
        }'
done
