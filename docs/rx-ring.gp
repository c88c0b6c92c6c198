# docs/rx-ring.gp - an RX ring's life cycle, the driver's and the NIC's
# pointers (make docs: gnuplot rx-ring.gp > rx-ring.svg).
#
# A ring of 16 descriptors for the picture (ixmetal's have 512 on the Intel
# NICs), drawn clockwise from the top, in the state trace=rings prints as
#   RX: head=9 tail=2 done=6 pending=9 bufs=16/16
# driver/intel.c: the device fills from RDH up to the one before RDT; the
# driver takes done descriptors from next (struct intel_rxq); RDT stays one
# behind next, so one descriptor is always the driver's.
set terminal svg size 1200,560 dynamic font "Helvetica,13" background rgb "white"
N = 16
next = 3; rdh = 9; rdt = 2
set size ratio -1
set xrange [-1.5:5.6]
set yrange [-1.45:1.45]
unset border; unset tics; unset key
# descriptor i spans [a(i+1), a(i)] degrees: 90 at the top, clockwise
a(i) = 90 - 360.0 * i / N
mid(i) = (a(i) + a(i + 1)) / 2
inring(i, lo, hi) = ((i - lo + N) % N) < ((hi - lo + N) % N)
colour(i) = inring(i, next, rdh) ? 0x5cb85c : (i == rdt ? 0xaaaaaa : 0x5b9bd5)
do for [i=0:N-1] {
    set object (i + 1) circle at 0,0 size 1 arc [a(i + 1):a(i)] fc rgb colour(i) fs solid 1 border lc rgb "white" lw 2 back
    set label (i + 1) sprintf("%d", i) at 0.82 * cos(mid(i) * pi / 180), 0.82 * sin(mid(i) * pi / 180) center front tc rgb "white" font ",11"
}
set object (N + 1) circle at 0,0 size 0.62 fc rgb "white" fs solid 1 noborder front
# the pointers: where each one points
set arrow 1 from 1.35 * cos(a(rdh) * pi / 180 - 0.2), 1.35 * sin(a(rdh) * pi / 180 - 0.2) to 1.02 * cos(mid(rdh) * pi / 180), 1.02 * sin(mid(rdh) * pi / 180) lw 2 lc rgb "#333333" front
set label 20 "RDH (the NIC's head)" at 1.38 * cos(a(rdh) * pi / 180 - 0.2), 1.38 * sin(a(rdh) * pi / 180 - 0.2) left front
set arrow 2 from 0.9, 1.3 to 1.02 * cos(mid(rdt) * pi / 180), 1.02 * sin(mid(rdt) * pi / 180) lw 2 lc rgb "#333333" front
set label 21 "RDT (the driver's tail) = next - 1" at 0.93, 1.33 left front
set arrow 3 from 0.3 * cos(mid(next) * pi / 180), 0.3 * sin(mid(next) * pi / 180) to 0.6 * cos(mid(next) * pi / 180), 0.6 * sin(mid(next) * pi / 180) lw 2 lc rgb "#2d6a2d" front
set label 22 "next\n(rx\\_batch\nlooks here)" at 0, 0 center front tc rgb "#2d6a2d" font ",11"
# the legend and the cycle
set object 30 rect from 1.6, 0.95 to 1.75, 1.05 fc rgb "#5b9bd5" fs solid 1 noborder
set label 30 "pending: the NIC's to fill (RDH .. RDT-1)" at 1.85, 1.0 left
set object 31 rect from 1.6, 0.75 to 1.75, 0.85 fc rgb "#5cb85c" fs solid 1 noborder
set label 31 "done: written back with DD, not yet taken" at 1.85, 0.8 left
set object 32 rect from 1.6, 0.55 to 1.75, 0.65 fc rgb "#aaaaaa" fs solid 1 noborder
set label 32 "kept back by the driver (RDT never reaches RDH)" at 1.85, 0.6 left
set label 40 "The cycle of one descriptor:" at 1.6, 0.25 left font ",13:Bold"
set label 41 "1. the NIC DMA-writes a frame into its buffer, then the\n    write-back (length, DD, EOP) over the descriptor; RDH moves on" at 1.6, 0.05 left
set label 42 "2. rx\\_batch finds DD at next, hands the buffer to the app\n    and puts a fresh one from the mempool in its place" at 1.6, -0.35 left
set label 43 "3. at the end of the batch, one register write:\n    RDT = next - 1, and the descriptor is the NIC's again" at 1.6, -0.75 left
set label 44 "every descriptor always holds a buffer: bufs = 16/16" at 1.6, -1.15 left tc rgb "#555555"
plot NaN
