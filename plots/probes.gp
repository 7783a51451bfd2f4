# probes.gp — a retrieval probe's top-1 accuracy against the distance D between the two planted
# strings (log2), every method and variant, one panel per window length T; D = L dashed, chance dotted.
#
# Variables (from `posbench plot`, figures/data/probes_KIND_L<L>.gp):
#   nser, slabel[i], linetype i          series = methods (variants dashed)
#   npanel, pfile[p], ptitle[p]          one panel per window length T
#   data blocks (index i-1): D mean_acc seeds
#   pL, chance, xmin, xmax, xtics
load vars
load plotdir.'/common.gp'

left   = 0.50 / W
right  = 1 - 0.10 / W
gap    = 0.30 / W
bottom = 0.40 / H
top    = 1 - (krows + 0.6) * lineh - 1.5 * lineh
pw = (right - left - (npanel - 1) * gap) / npanel

set multiplot
do for [p = 1:npanel] {
    x0 = left + (p - 1) * (pw + gap)
    set lmargin at screen x0
    set rmargin at screen x0 + pw
    set tmargin at screen top
    set bmargin at screen bottom
    set title ptitle[p] offset 0, -0.6
    set logscale x 2
    set xrange [xmin:xmax]
    set yrange [-0.03:1.03]
    eval 'set xtics '.xtics
    set ytics 0, 0.25, 1
    set xlabel 'distance D (tokens)' offset 0, 0.4
    if (p == 1) { set ylabel 'top-1 accuracy' offset 1.2, 0; set format y '%g' } else { unset ylabel; set format y '' }
    unset arrow
    if (pL >= xmin && pL <= xmax) { set arrow 1 from pL, graph 0 to pL, graph 1 nohead dt 2 lw 1 lc rgb '#555555' back }
    set arrow 2 from graph 0, first chance to graph 1, first chance nohead dt 3 lw 1 lc rgb '#888888' back
    if (p == 1) { eval keyon } else { eval keyoff }
    plot for [i = 1:nser] pfile[p] index (i - 1) using 1:2 with linespoints lt i title slabel[i]
}
unset multiplot
