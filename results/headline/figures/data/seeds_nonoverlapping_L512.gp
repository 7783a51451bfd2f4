# variables for plots/seeds.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 3.400
H = 2.050
nser = 2
array slabel[2] = ['ALiBi', 'Sinusoidal']
set linetype 1 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
dfile = 'seeds_nonoverlapping_L512.dat'
ncol = 2
nrow = 1
Ltrain = 512
nseeds = 3
ftitle = 'trained at L = 512 (dashed), nonoverlapping windows'
xmin = 409.6
xmax = 5120
ymin = 2.62201
ymax = 37.7759
xtics = '("512" 512, "1k" 1024, "2k" 2048, "4k" 4096)'
xticsnl = '("" 512, "" 1024, "" 2048, "" 4096)'
ytics = '(3, 5, 7, 10, 20, 30)'
