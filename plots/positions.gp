# positions.gp — per-position loss: mean loss at each position inside the longest
# evaluation window against the context the token sees (log2), the training
# length dashed: where each method breaks. One panel per training length.
#
# Variables (figures/data/positions.gp):
#   nser, slabel[i], linetype i; npanel, pfile[p], pL[p], pW[p], ptitle[p]
#   data blocks (index i-1): context_tokens mean_nll positions_in_bin
#   xmin, pxmax[p], pxtics[p] (powers of 4 up to the window), ymin ymax
load vars
load plotdir.'/common.gp'

left   = 0.50 / W
right  = 1 - 0.10 / W
gap    = 0.42 / W
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
    set xrange [xmin:pxmax[p]]
    set yrange [ymin:ymax]
    eval 'set xtics '.pxtics[p]
    set ytics auto
    set xlabel 'tokens of context (position in window + 1)' offset 0, 0.4
    if (p == 1) { set ylabel 'loss (nats per token)' offset 1.2, 0 } else { unset ylabel }
    set arrow 1 from pL[p], graph 0 to pL[p], graph 1 nohead dt 2 lw 1 lc rgb '#555555' back
    if (p == 1) { eval keyon } else { eval keyoff }
    plot for [i = 1:nser] pfile[p] index (i - 1) using 1:2 with linespoints lt i pi 6 ps 0.6 title slabel[i]
}
unset multiplot
