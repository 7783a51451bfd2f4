# speed_train.gp — training throughput per method as bars (± std over seeds),
# and below it the training process's peak memory when meta.json has it.
#
# Variables (figures/data/speed_train.gp):
#   dfile: x tokens_per_s sd peak_rss_mb colour(0xRRGGBB) "label"
#   have_rss, have_sd (error bars), multi_L, nbars, xmin xmax, tmax (tokens/s), rmax (MB)
load vars
load plotdir.'/common.gp'

left   = 0.55 / W
right  = 1 - 0.10 / W
bottom = (multi_L ? 0.42 : 0.30) / H
top    = 1 - 0.5 * lineh
vgap   = (multi_L ? 0.45 : 0.22) / H
ph = have_rss ? (top - bottom - vgap) / 2 : top - bottom

set multiplot
unset key
unset grid
set grid ytics lw 0.4 lc rgb '#e4e4e4'
set style fill solid 0.9 border lc rgb '#333333'
set boxwidth 0.7
set xrange [xmin:xmax]
set xtics scale 0 nomirror
set lmargin at screen left
set rmargin at screen right

set tmargin at screen top
set bmargin at screen top - ph
set yrange [0:tmax / 1000.0]
set ylabel 'training speed (k tokens/s)' offset 0.6, 0
if (have_sd) {
    plot dfile using 1:($2 / 1000):(0.7):5:xtic(6) with boxes lc rgb variable, \
         dfile using 1:(($2 - $3) / 1000):(0):(2 * $3 / 1000) with vectors nohead lc rgb '#222222' lw 1, \
         dfile using 1:(($2 + $3) / 1000):(sprintf('%.1f', $2 / 1000)) with labels offset 0, 0.6 tc rgb '#222222'
} else {
    plot dfile using 1:($2 / 1000):(0.7):5:xtic(6) with boxes lc rgb variable, \
         dfile using 1:($2 / 1000):(sprintf('%.1f', $2 / 1000)) with labels offset 0, 0.6 tc rgb '#222222'
}

if (have_rss) {
    set tmargin at screen top - ph - vgap
    set bmargin at screen bottom
    set yrange [0:rmax]
    set ylabel 'training peak RSS (MB)' offset 0.6, 0
    plot dfile using 1:4:(0.7):5:xtic(6) with boxes lc rgb variable, \
         dfile using 1:4:(sprintf('%.0f', $4)) with labels offset 0, 0.55 tc rgb '#222222'
}
unset multiplot
