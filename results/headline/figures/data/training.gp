# variables for plots/training.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 10.900
H = 2.580
nser = 2
array slabel[2] = ['ALiBi', 'Sinusoidal']
set linetype 1 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
npanel = 4
array pfile[4]
array ptitle[4]
pfile[1] = 'training_L64.dat'
ptitle[1] = 'trained at L = 64'
pfile[2] = 'training_L128.dat'
ptitle[2] = 'trained at L = 128'
pfile[3] = 'training_L256.dat'
ptitle[3] = 'trained at L = 256'
pfile[4] = 'training_L512.dat'
ptitle[4] = 'trained at L = 512'
xmin = 0
xmax = 10.0061
ymin = 0.974538
ymax = 2.49449
xlab = 'training tokens (millions)'
hasval = 1
