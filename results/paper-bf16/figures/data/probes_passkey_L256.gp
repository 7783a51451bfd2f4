# variables for plots/probes.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 8.400
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
npanel = 3
pL = 256
chance = 1e-05
xmin = 11.4286
xmax = 5644.8
xtics = '("16" 16, "64" 64, "192" 192, "960" 960, "4032" 4032)'
array pfile[3]
array ptitle[3]
pfile[1] = 'probes_passkey_L256_T256.dat'
ptitle[1] = 'T = 256'
pfile[2] = 'probes_passkey_L256_T1024.dat'
ptitle[2] = 'T = 1024'
pfile[3] = 'probes_passkey_L256_T4096.dat'
ptitle[3] = 'T = 4096'
