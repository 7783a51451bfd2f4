# variables for plots/positions.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
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
array pL[1]
array pW[1]
array ptitle[1]
array pxmax[1]
array pxtics[1]
pxtics[1] = '("1" 1, "4" 4, "16" 16, "64" 64, "256" 256, "1024" 1024, "8192" 8192)'
pxmax[1] = 10240
pfile[1] = 'positions_L256.dat'
pL[1] = 256
pW[1] = 8192
ptitle[1] = 'trained at L = 256 (dashed), window 8192'
xmin = 0.8
ymin = 0.47058
ymax = 3.73608
