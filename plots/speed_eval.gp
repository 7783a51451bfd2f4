# speed_eval.gp — evaluation cost against evaluation length: tokens/s (top, log)
# and the evaluating process's peak resident memory (bottom), every method, the
# training length dashed. One column of panels per training length.
#
# Variables (figures/data/speed_eval.gp):
#   nser, slabel[i], linetype i; npanel, pfile[p], pL[p], ptitle[p]
#   data blocks (index i-1): eval_len tokens_per_s sd peak_rss_mb sd
#   pxmin[p] pxmax[p] pxtics[p] pxticsnl[p] (no labels): per-panel x; tmin tmax (thousand tokens/s), ttics, rmax (MB)
load vars
load plotdir.'/common.gp'

left   = 0.55 / W
right  = 1 - 0.10 / W
gap    = 0.45 / W
bottom = 0.40 / H
top    = 1 - (krows + 0.6) * lineh - 1.5 * lineh
vgap   = 0.12 / H
pw = (right - left - (npanel - 1) * gap) / npanel
ph = (top - bottom - vgap) / 2

set multiplot
set logscale x 2
do for [p = 1:npanel] {
    x0 = left + (p - 1) * (pw + gap)
    set xrange [pxmin[p]:pxmax[p]]
    set lmargin at screen x0
    set rmargin at screen x0 + pw
    set arrow 1 from pL[p], graph 0 to pL[p], graph 1 nohead dt 2 lw 1 lc rgb '#555555' back

    # top: throughput
    set tmargin at screen top
    set bmargin at screen top - ph
    set title ptitle[p] offset 0, -0.6
    set logscale y 10
    set yrange [tmin:tmax]
    eval 'set ytics '.ttics
    set format y '%g'
    eval 'set xtics '.pxticsnl[p]
    unset xlabel
    if (p == 1) { set ylabel 'eval speed (k tokens/s)' offset 0.6, 0 } else { unset ylabel }
    if (p == 1) { eval keyon } else { eval keyoff }
    plot for [i = 1:nser] pfile[p] index (i - 1) using 1:($2 / 1000) with linespoints lt i title slabel[i]

    # bottom: memory
    unset title
    eval keyoff
    set tmargin at screen top - ph - vgap
    set bmargin at screen bottom
    unset logscale y
    set yrange [0:rmax]
    set ytics auto
    eval 'set xtics '.pxtics[p]
    set xlabel 'evaluation length (tokens)' offset 0, 0.4
    if (p == 1) { set ylabel 'eval peak RSS (MB)' offset 0.6, 0 } else { unset ylabel }
    plot for [i = 1:nser] pfile[p] index (i - 1) using 1:4 with linespoints lt i notitle
}
unset multiplot
