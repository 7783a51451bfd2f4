# seeds.gp — seed spread: one small panel per method, the mean perplexity over
# seeds (thick), ±1 std (shaded) and every single seed (thin), shared axes.
#
# Variables (figures/data/seeds_MODE_LL.gp):
#   nser, slabel[i], linetype i     one panel per method
#   dfile: for method i, index 2i-2 = eval_len mean sd lo hi seeds,
#          index 2i-1 = eval_len ppl, one line per seed (blank-line separated)
#   ncol, nrow, Ltrain, nseeds, ftitle, xmin xmax ymin ymax, xtics, xticsnl, ytics
load vars
load plotdir.'/common.gp'

left   = 0.50 / W
right  = 1 - 0.08 / W
bottom = 0.40 / H
top    = 1 - 3.6 * lineh
hgap   = 0.08 / W
vgap   = 1.6 * lineh
pw = (right - left - (ncol - 1) * hgap) / ncol
ph = (top - bottom - (nrow - 1) * vgap) / nrow

set multiplot
set logscale x 2
set logscale y 10
set xrange [xmin:xmax]
set yrange [ymin:ymax]
eval 'set ytics '.ytics
unset key
do for [i = 1:nser] {
    c = (i - 1) % ncol
    r = (i - 1) / ncol
    x0 = left + c * (pw + hgap)
    y1 = top - r * (ph + vgap)
    set lmargin at screen x0
    set rmargin at screen x0 + pw
    set tmargin at screen y1
    set bmargin at screen y1 - ph
    if (i + ncol > nser) { eval 'set xtics '.xtics } else { eval 'set xtics '.xticsnl }
    if (c == 0) { set format y '%g' } else { set format y '' }
    set title slabel[i] offset 0, -0.75
    set arrow 1 from Ltrain, graph 0 to Ltrain, graph 1 nohead dt 2 lw 1 lc rgb '#555555' back
    if (i == 1) {
        set label 2 ftitle at screen 0.5, screen 1 - 0.6 * lineh center front
        set label 3 sprintf('thick: mean of %d seeds, shaded ±1 std; thin: each seed', nseeds) \
            at screen 0.5, screen 1 - 1.65 * lineh center front tc rgb '#444444'
        set label 4 'evaluation length (tokens)' at screen (left + right) / 2, screen 0.55 * lineh center front
        set label 5 'perplexity' at screen 0.9 * em, screen (top + bottom) / 2 center rotate by 90 front
    } else {
        unset label 2; unset label 3; unset label 4; unset label 5
    }
    plot dfile index (2 * i - 2) using 1:4:5 with filledcurves lt i notitle, \
         dfile index (2 * i - 1) using 1:2 with lines lt i lw 0.6 notitle, \
         dfile index (2 * i - 2) using 1:2 with linespoints lt i lw 1.6 notitle
}
unset multiplot
