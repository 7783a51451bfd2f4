# variables for plots/training.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 3.400
H = 2.710
nser = 5
array slabel[5] = ['NoPE', 'Sinusoidal', 'Rotary', 'T5 bias', 'ALiBi']
set linetype 1 lc rgb '#7F7F7F' lw 1.5 pt 6 ps 0.75 dt solid  # nope
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
set linetype 3 lc rgb '#009E73' lw 1.5 pt 9 ps 0.75 dt solid  # rotary
set linetype 4 lc rgb '#E69F00' lw 1.5 pt 13 ps 0.75 dt solid  # t5
set linetype 5 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
npanel = 1
array pfile[1]
array ptitle[1]
pfile[1] = 'training_L256.dat'
ptitle[1] = 'trained at L = 256'
xmin = 0
xmax = 13.338
ymin = 0.884296
ymax = 2.50749
xlab = 'training tokens (millions)'
hasval = 1
