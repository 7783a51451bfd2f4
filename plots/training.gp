# training.gp — training loss against tokens seen, every method, one panel per
# training length.
#
# Variables (figures/data/training.gp):
#   nser, slabel[i], linetype i; npanel, pfile[p], ptitle[p]
#   data blocks (index i-1): tokens in the unit of xlab (or steps) mean_loss
#   hasval: blocks nser..2*nser-1 hold the validation curves (x, loss), drawn dashed
#   xmin xmax ymin ymax (the first steps are above ymax: clipped on purpose), xlab
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
    set xrange [xmin:xmax]
    set yrange [ymin:ymax]
    set xtics auto
    set ytics auto
    set xlabel xlab offset 0, 0.4
    if (p == 1) { set ylabel 'training loss (nats per token)' offset 1.2, 0 } else { unset ylabel }
    if (p == 1) { eval keyon } else { eval keyoff }
    if (hasval) {
        plot for [i = 1:nser] pfile[p] index (i - 1) using 1:2 with linespoints lt i pi 4 ps 0.6 title slabel[i], \
             for [i = 1:nser] pfile[p] index (nser + i - 1) using 1:2 with linespoints lt i dt 2 pt 6 ps 0.5 notitle, \
             NaN with linespoints lc 'black' dt 2 pt 6 ps 0.5 title 'held-out'
    } else {
        plot for [i = 1:nser] pfile[p] index (i - 1) using 1:2 with linespoints lt i pi 4 ps 0.6 title slabel[i]
    }
}
unset multiplot
