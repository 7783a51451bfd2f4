# extrapolation.gp — the paper's Figure 1: perplexity (log) against evaluation
# length (log2), every method, the training length L dashed, one panel per L.
#
# Variables (from `posbench plot`, figures/data/extrapolation_MODE.gp):
#   nser, slabel[i], linetype i          series = methods, styled by plots/style.c's table
#   npanel, pfile[p], pL[p], ptitle[p]   one panel per training length
#   data blocks (index i-1): eval_len mean_ppl sd lo hi seeds
#   band                                 1: shade mean ± 1 std (several seeds)
#   pxmin[p] pxmax[p] pxtics[p]          per-panel x range and tics; ymin ymax ytics shared
load vars
load plotdir.'/common.gp'

left   = 0.50 / W
right  = 1 - 0.10 / W
gap    = 0.42 / W
bottom = 0.40 / H
top    = 1 - (krows + 0.6) * lineh - 1.5 * lineh    # key band, then the panel title
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
    set logscale y 10
    set xrange [pxmin[p]:pxmax[p]]
    set yrange [ymin:ymax]
    eval 'set xtics '.pxtics[p]
    eval 'set ytics '.ytics
    set xlabel 'evaluation length (tokens)' offset 0, 0.4
    if (p == 1) { set ylabel 'perplexity' offset 1.2, 0 } else { unset ylabel }
    set arrow 1 from pL[p], graph 0 to pL[p], graph 1 nohead dt 2 lw 1 lc rgb '#555555' back
    if (p == 1) { eval keyon } else { eval keyoff }
    if (band) {
        plot for [i = 1:nser] pfile[p] index (i - 1) using 1:4:5 with filledcurves lt i notitle, \
             for [i = 1:nser] pfile[p] index (i - 1) using 1:2 with linespoints lt i title slabel[i]
    } else {
        plot for [i = 1:nser] pfile[p] index (i - 1) using 1:2 with linespoints lt i title slabel[i]
    }
}
unset multiplot
