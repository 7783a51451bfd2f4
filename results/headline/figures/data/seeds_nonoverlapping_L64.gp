# variables for plots/seeds.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 3.400
H = 2.050
nser = 2
array slabel[2] = ['ALiBi', 'Sinusoidal']
set linetype 1 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
dfile = 'seeds_nonoverlapping_L64.dat'
ncol = 2
nrow = 1
Ltrain = 64
nseeds = 3
ftitle = 'trained at L = 64 (dashed), nonoverlapping windows'
xmin = 51.2
xmax = 640
ymin = 2.69828
ymax = 38.165
xtics = '("64" 64, "128" 128, "256" 256, "512" 512)'
xticsnl = '("" 64, "" 128, "" 256, "" 512)'
ytics = '(3, 5, 7, 10, 20, 30)'
