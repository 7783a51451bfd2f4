# probes_heat.gp — a retrieval probe's top-1 accuracy over window length T (rows) and distance D
# (columns) for two methods: the best and the worst by mean accuracy, one filled box per cell.
# Blank: D does not fit T.
#
# Variables (figures/data/probes_heat_KIND_L<L>.gp): dfile (index 0: best, 1: worst; columns
#   D_index T_index acc), nD, nT, xtics, ytics (index -> value labels), ptitle[2]
load vars
load plotdir.'/common.gp'

left   = 0.62 / W
right  = 1 - 0.75 / W
gap    = 0.60 / W
bottom = 0.40 / H
top    = 1 - 1.8 * lineh
pw = (right - left - gap) / 2

set style fill solid 1.0 noborder
set palette defined (0 '#f7fbff', 0.25 '#c6dbef', 0.5 '#6baed6', 0.75 '#2171b5', 1 '#08306b')
set cbrange [0:1]
set cbtics 0, 0.25, 1
set xrange [-0.5:nD - 0.5]
set yrange [-0.5:nT - 0.5]
unset grid
eval 'set xtics '.xtics
eval 'set ytics '.ytics
set xtics rotate by 45 right
set xlabel 'distance D' offset 0, 0.6
set multiplot
do for [p = 1:2] {
    x0 = left + (p - 1) * (pw + gap)
    set lmargin at screen x0
    set rmargin at screen x0 + pw
    set tmargin at screen top
    set bmargin at screen bottom
    set title ptitle[p] offset 0, -0.6
    if (p == 1) { set ylabel 'window length T' offset -0.6, 0; unset colorbox } else { unset ylabel; set colorbox user origin screen right + 0.12 / W, screen bottom size screen 0.10 / W, screen top - bottom }
    plot dfile index (p - 1) using 1:2:(0.5):(0.5):3 with boxxyerror fc palette notitle
}
unset multiplot
