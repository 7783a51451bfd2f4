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
pxmin[1] = 204.8
pxmax[1] = 10240
pxtics[1] = '("256" 256, "512" 512, "1024" 1024, "2048" 2048, "4096" 4096, "8192" 8192)'
pxticsnl[1] = '("" 256, "" 512, "" 1024, "" 2048, "" 4096, "" 8192)'
pfile[1] = 'extrapolation_sliding_L256.dat'
pL[1] = 256
ptitle[1] = 'trained at L = 256 (dashed), sliding window, stride 128'
band = 1
ymin = 2.23157
ymax = 48.1693
ytics = '(3, 5, 7, 10, 20, 30)'
