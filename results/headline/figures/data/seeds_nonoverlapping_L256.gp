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
xmax = 2560
ymin = 2.63411
ymax = 40.9567
xtics = '("256" 256, "512" 512, "1k" 1024, "2k" 2048)'
xticsnl = '("" 256, "" 512, "" 1024, "" 2048)'
ytics = '(3, 5, 7, 10, 20, 30)'
