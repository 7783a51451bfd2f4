# common.gp — terminal, fonts and axes shared by every posbench figure.
#
# Loaded by each figure script after its variable file. Expects:
#   fmt  'png' | 'pdf'      out  output file      W, H  size in inches
# Sized for one paper column (3.4 in wide) at 7 pt; the PNG is the same figure at
# 200 dpi, so both read alike.

dpi = 200.0
fontname = 'Helvetica'
fontsize = 7
# The cairo terminals scale differently (pdfcairo halves fonts by default, pngcairo
# draws points and lines in pixels): these factors make the PDF and PNG match.
if (fmt eq 'pdf') {
    eval sprintf("set terminal pdfcairo noenhanced color size %.3fin,%.3fin font '%s,%d' fontscale 1.0 linewidth 0.7 pointscale 0.6 rounded", W, H, fontname, fontsize)
} else {
    eval sprintf("set terminal pngcairo noenhanced color size %d,%d font '%s,%d' fontscale %.3f linewidth %.3f pointscale %.3f rounded", int(W*dpi), int(H*dpi), fontname, fontsize, dpi/72.0, dpi/72.0/1.6, dpi/72.0*0.6)
}
set output out
set encoding utf8

# text line height as a fraction of the canvas (for manual margins)
lineh = 1.25 * fontsize / 72.0 / H
charw = 0.55 * fontsize / 72.0 / W

set border 3 lw 0.8 lc rgb '#333333'
set tics nomirror out scale 0.5,0.3 textcolor rgb '#222222'
set grid xtics ytics lw 0.4 lc rgb '#e4e4e4' dt solid
set grid back
set style fill transparent solid 0.18 noborder
set key noenhanced samplen 2.2 spacing 1.05 textcolor rgb '#000000'
set datafile missing 'NaN'

# The method legend, drawn by hand above the panels (gnuplot's own key
# misjudges text widths with cairo fonts and overlaps entries): a line sample
# with the method's point, then its name; as many columns as fit, row by row.
# Scripts with series (nser, slabel[]) reserve krows lines at the top, run
# `eval keyon` before their first plot and `eval keyoff` before the next.
unset key
em = fontsize / 72.0 / W
if (exists('nser')) {
    kmax = 1
    do for [ki = 1:nser] { kmax = strlen(slabel[ki]) > kmax ? strlen(slabel[ki]) : kmax }
    ksamp = 2.2 * em
    kcolw = ksamp + 0.5 * em + 0.58 * em * kmax + 1.6 * em
    kcols = int(0.96 / kcolw)
    kcols = kcols < 1 ? 1 : (kcols > nser ? nser : kcols)
    krows = int(ceil(nser / (kcols * 1.0)))
    kx0 = 0.5 - kcols * kcolw / 2 + 0.8 * em
    keyon = "do for [ki = 1:nser] { kx = kx0 + ((ki - 1) % kcols) * kcolw; ky = 1 - ((ki - 1) / kcols + 0.75) * lineh; " . \
            "set arrow 100 + ki from screen kx, screen ky to screen kx + ksamp, screen ky nohead lt ki front; " . \
            "set label 100 + ki '' at screen kx + ksamp / 2, screen ky point lt ki front; " . \
            "set label 200 + ki slabel[ki] at screen kx + ksamp + 0.5 * em, screen ky left front }"
    keyoff = "do for [ki = 1:nser] { unset arrow 100 + ki; unset label 100 + ki; unset label 200 + ki }"
}
