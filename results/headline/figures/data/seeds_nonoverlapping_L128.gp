# variables for plots/seeds.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 3.400
H = 2.050
nser = 2
array slabel[2] = ['ALiBi', 'Sinusoidal']
set linetype 1 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
dfile = 'seeds_nonoverlapping_L128.dat'
ncol = 2
nrow = 1
Ltrain = 128
nseeds = 3
ftitle = 'trained at L = 128 (dashed), nonoverlapping windows'
xmin = 102.4
xmax = 640
ymin = 3.41984
ymax = 19.871
xtics = '("128" 128, "256" 256, "512" 512)'
xticsnl = '("" 128, "" 256, "" 512)'
ytics = '(4, 5, 6, 7, 8, 9, 10, 15)'
