#!/usr/bin/env bash
# tools/bench-ixgbe.sh - the ixgbe driver's cost per forwarded frame, on the
# host, against two 82599 model ports (tools/bench-ixgbe.c). Prints:
#   - TSC cycles per forwarded frame, the model on a thread of its own;
#   - instructions per forwarded frame, counted by valgrind's callgrind in
#     bench_fwd_pass (both ports' rx_batch and tx_batch, the mempool, the
#     app's loop), less the model's own instructions behind the tail-register
#     writes (ixgbe_model_write), which on hardware are one store each: in io,
#     macswap and mac mode, by function, at batch 32, and macswap a byte at
#     a time (no SSSE3);
#   - TSC cycles per frame in io and macswap mode, batch 32, the model on a
#     CPU of its own, the least of 5 runs; then with the models flushing
#     what they write as DMA from the caches;
#   - both, in io mode, for batch sizes 1, 2, 4, ... 256, as a table and as a
#     figure drawn by gnuplot (build/bench-batch.png).
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
# Instructions per forwarded frame: callgrind over bench_fwd_pass in single
# mode, less the model's (inclusive ixgbe_model_write), divided by the frames
# the run forwarded. count MODE BATCH FRAMES prints "<per frame> <frames>"
# and leaves the profile in $out.
count() {
    local frames
    frames=$(valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=bench_fwd_pass \
        "$bin" single "$3" "$1" "$2" 2>/dev/null | sed -n 's/.*: \([0-9]*\) frames forwarded.*/\1/p')
    callgrind_annotate --inclusive=yes "$out" | awk -v frames="$frames" '
        /bench_fwd_pass \[/ { gsub(",", "", $1); pass = $1 }
        /ixgbe_model_write \[/ { gsub(",", "", $1); model = $1 }
        END { printf "%.1f %d\n", (pass - model) / frames, frames }'
}
# The profile in $out by function, per frame (frames: $1): each function's
# own instructions with what the compiler inlined into it (callgrind names
# inlined code by its header: ./driver/pktbuf.h:intel_rx_batch); the
# model's (tests/model/) left out.
by_function() {
    callgrind_annotate --auto=no --threshold=100 "$out" | sed -n '/file:function/,$p' |
        awk -v frames="$1" '
        { for (j = 2; j <= NF; j++) if ($j ~ /:/ && $j !~ /%/) {
              n = $1; gsub(",", "", n); if ($j ~ /tests\/model\/|:model_clock$/) break
              f = $j; sub(/.*:/, "", f); c[f] += n } }
        END {
            split("intel_rx_batch intel_tx_batch pkt_free_batch pkt_alloc_batch", drv)
            for (k = 1; k <= 4; k++) if (drv[k] in c) {
                printf "    %-46s %5.1f\n", drv[k], c[drv[k]] / frames; delete c[drv[k]] }
            printf "    %-46s %5.1f\n", "the loop (forward, bench_fwd_pass)",
                (c["forward"] + c["bench_fwd_pass"]) / frames
            printf "    %-46s %5.1f\n", "mmio_write32 (the host build'"'"'s register door)",
                c["mmio_write32"] / frames
            delete c["forward"]; delete c["bench_fwd_pass"]; delete c["mmio_write32"]
            for (f in c) other += c[f]
            if (other) printf "    %-46s %5.1f\n", "other", other / frames
        }'
}
# io, macswap and mac (the receive rewriting each frame as it takes it:
# driver/rewrite.h, apps/fwd_rewrite.h), batch 32, with the breakdown by
# function; then macswap a byte at a time, as on a CPU without SSSE3.
for mode in io macswap mac; do
    read -r per frames <<<"$(count "$mode" 32 200000)"
    eval "per_$mode=$per"
    goal="goal: 60 or fewer; ixy: 127"
    [ "$mode" = io ] || goal="io's and the receive's rewrite"
    echo "  callgrind, mode $mode, batch 32: $per instructions per forwarded frame, the model's left out ($goal)"
    by_function "$frames"
done
read -r per_bytes _ <<<"$(count macswap-bytes 32 200000)"
awk -v io="$per_io" -v ms="$per_macswap" -v mac="$per_mac" -v by="$per_bytes" 'BEGIN {
    printf "  macswap costs %.1f instructions per frame more than io (goal: 5 or fewer), mac %.1f\n", ms - io, mac - io
    printf "  macswap a byte at a time (a CPU without SSSE3): %.1f instructions per frame\n", by }'
# io's and macswap's TSC cycles per frame, batch 32, the model on a CPU of
# its own (so the frames macswap rewrites come from another core's cache),
# the least of 5 runs; then with every line the models write as DMA
# flushed from the caches (a DMA write without DDIO). docs/speed.md says
# what these showed.
least() { # least RUNS ARGS...: the bench's TSC cycles per frame, the least of RUNS runs
    local runs=$1 run
    shift
    for run in $(seq "$runs"); do
        "$bin" "$@" 2>/dev/null | sed -n 's/.*: \([0-9.]*\) TSC cycles per forwarded frame.*/\1/p'
    done | sort -n | head -1
}
if [ "$cpus" -ge 2 ]; then
    echo "  TSC cycles per frame, batch 32, the model on another CPU, least of 5 runs:" \
        "io $(least 5 threads 1 2000000 32 io), macswap $(least 5 threads 1 2000000 32 macswap)"
    echo "  the same, the models' DMA writes flushed from the caches (no DDIO):" \
        "io $(least 5 threads 1 2000000 32 io evict), macswap $(least 5 threads 1 2000000 32 macswap evict)"
fi
# The batch-size sweep (the ixy paper's figure 6), io mode: per forwarded
# frame, instructions (callgrind, single mode) and TSC cycles two ways: in
# single mode (the model writes the descriptors on the same CPU just before,
# so they are in its cache) and in threads mode (the model on a CPU of its
# own, so they come from another core's cache, as a real NIC's DMA leaves
# them). Cycles are the least of 3 runs: other work on the CPUs only adds to
# them, and they still move with the machine's load. The table goes into
# build/bench-batch.dat, the figure (gnuplot) into build/bench-batch.png.
dat=build/bench-batch.dat
echo "  batch-size sweep, io mode (TSC cycles: the least of 3 runs; they move with the machine's load):"
printf "    %5s %14s %26s %26s\n" batch instructions "cycles, model on this CPU" "cycles, model on another"
echo "# batch instructions cycles_model_same_cpu cycles_model_other_cpu (per forwarded frame; bench-ixgbe, io mode, 60-byte frames)" >"$dat"
for b in 1 2 4 8 16 32 64 128 256; do
    read -r per _ <<<"$(count io "$b" 100000)"
    same=$(least 3 single 500000 io "$b")
    other=NaN
    [ "$cpus" -ge 2 ] && other=$(least 3 threads 1 500000 "$b")
    printf "    %5d %14s %26s %26s\n" "$b" "$per" "$same" "$other"
    echo "$b $per $same $other" >>"$dat"
done
if command -v gnuplot >/dev/null; then
    gnuplot <<END
set terminal pngcairo size 800,500 font ",11"
set output "build/bench-batch.png"
set title "fwd between two 82599 models on the host: cost per forwarded frame, io mode"
set xlabel "batch size (frames a receive call asks for)"
set ylabel "per forwarded frame"
set logscale x 2
set xrange [0.8:320]
set xtics (1, 2, 4, 8, 16, 32, 64, 128, 256)
set yrange [0:*]
set key top right
set grid
plot "$dat" using 1:2 with linespoints lw 2 pt 7 title "instructions (callgrind)", \
     "$dat" using 1:3 with linespoints lw 2 pt 5 title "TSC cycles, the model on the same CPU", \
     "$dat" using 1:4 with linespoints lw 2 pt 9 title "TSC cycles, the model on another CPU"
END
    echo "  the figure: build/bench-batch.png (data: $dat)"
else
    echo "  gnuplot is not installed (tools/deps.sh bench installs it): no figure"
fi
