# variables for plots/seeds.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 3.400
H = 2.050
nser = 2
array slabel[2] = ['ALiBi', 'Sinusoidal']
set linetype 1 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
dfile = 'seeds_nonoverlapping_L256.dat'
ncol = 2
nrow = 1
Ltrain = 256
nseeds = 3
ftitle = 'trained at L = 256 (dashed), nonoverlapping windows'
xmin = 204.8
xmax = 1280
ymin = 3.42518
ymax = 18.9735
xtics = '("256" 256, "512" 512, "1k" 1024)'
xticsnl = '("" 256, "" 512, "" 1024)'
ytics = '(4, 5, 6, 7, 8, 9, 10, 15)'
