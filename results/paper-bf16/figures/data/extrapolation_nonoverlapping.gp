# variables for plots/extrapolation.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 3.400
H = 2.970
nser = 10
array slabel[10] = ['NoPE', 'Sinusoidal', 'Rotary', 'T5 bias', 'ALiBi', 'rotary+pi=4', 'rotary+yarn=4', 'rotary+dyntk', 'rotary+logn', 'alibi+window=256']
set linetype 1 lc rgb '#7F7F7F' lw 1.5 pt 6 ps 0.75 dt solid  # nope
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
set linetype 3 lc rgb '#009E73' lw 1.5 pt 9 ps 0.75 dt solid  # rotary
set linetype 4 lc rgb '#E69F00' lw 1.5 pt 13 ps 0.75 dt solid  # t5
set linetype 5 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 6 lc rgb '#009E73' lw 1.5 pt 14 ps 0.75 dt (10,7)  # rotary+pi=4
set linetype 7 lc rgb '#009E73' lw 1.5 pt 13 ps 0.75 dt (10,7)  # rotary+yarn=4
set linetype 8 lc rgb '#009E73' lw 1.5 pt 3 ps 0.75 dt (10,7)  # rotary+dyntk
set linetype 9 lc rgb '#009E73' lw 1.5 pt 8 ps 0.75 dt (10,7)  # rotary+logn
set linetype 10 lc rgb '#D55E00' lw 1.5 pt 1 ps 0.75 dt (10,7)  # alibi+window=256
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
pfile[1] = 'extrapolation_nonoverlapping_L256.dat'
pL[1] = 256
ptitle[1] = 'trained at L = 256 (dashed), nonoverlapping windows'
band = 1
ymin = 2.37556
ymax = 51.3089
ytics = '(5, 10, 20, 50)'
