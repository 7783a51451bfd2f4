# variables for plots/extrapolation.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
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
array pL[1]
array pxmin[1]
array pxmax[1]
array pxtics[1]
array pxticsnl[1]
pxmin[1] = 102.4
pxmax[1] = 2560
pxtics[1] = '("128" 128, "256" 256, "512" 512, "1024" 1024, "2048" 2048)'
pxticsnl[1] = '("" 128, "" 256, "" 512, "" 1024, "" 2048)'
pfile[1] = 'extrapolation_sliding_L128.dat'
pL[1] = 128
ptitle[1] = 'trained at L = 128 (dashed), sliding window, stride 64'
band = 0
ymin = 2.64455
ymax = 47.6106
ytics = '(3, 5, 7, 10, 20, 30)'
