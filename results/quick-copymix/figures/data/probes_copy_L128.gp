# variables for plots/probes.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 8.400
H = 2.840
nser = 8
array slabel[8] = ['NoPE', 'Sinusoidal', 'Rotary', 'T5 bias', 'ALiBi', 'rotary+yarn=4', 'rotary+dyntk', 'alibi+window=128']
set linetype 1 lc rgb '#7F7F7F' lw 1.5 pt 6 ps 0.75 dt solid  # nope
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
set linetype 3 lc rgb '#009E73' lw 1.5 pt 9 ps 0.75 dt solid  # rotary
set linetype 4 lc rgb '#E69F00' lw 1.5 pt 13 ps 0.75 dt solid  # t5
set linetype 5 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 6 lc rgb '#009E73' lw 1.5 pt 13 ps 0.75 dt (10,7)  # rotary+yarn=4
set linetype 7 lc rgb '#009E73' lw 1.5 pt 3 ps 0.75 dt (10,7)  # rotary+dyntk
set linetype 8 lc rgb '#D55E00' lw 1.5 pt 14 ps 0.75 dt (10,7)  # alibi+window=128
npanel = 3
pL = 128
chance = 0.0277778
xmin = 11.4286
xmax = 2822.4
xtics = '("16" 16, "" 32 1, "64" 64, "" 96 1, "256" 256, "" 1024 1, "2016" 2016)'
array pfile[3]
array ptitle[3]
pfile[1] = 'probes_copy_L128_T128.dat'
ptitle[1] = 'T = 128'
pfile[2] = 'probes_copy_L128_T512.dat'
ptitle[2] = 'T = 512'
pfile[3] = 'probes_copy_L128_T2048.dat'
ptitle[3] = 'T = 2048'
