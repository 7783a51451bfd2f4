# variables for plots/seeds.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 3.400
H = 3.250
nser = 5
array slabel[5] = ['NoPE', 'Sinusoidal', 'Rotary', 'T5 bias', 'ALiBi']
set linetype 1 lc rgb '#7F7F7F' lw 1.5 pt 6 ps 0.75 dt solid  # nope
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
set linetype 3 lc rgb '#009E73' lw 1.5 pt 9 ps 0.75 dt solid  # rotary
set linetype 4 lc rgb '#E69F00' lw 1.5 pt 13 ps 0.75 dt solid  # t5
set linetype 5 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
dfile = 'seeds_sliding_L256.dat'
ncol = 3
nrow = 2
Ltrain = 256
nseeds = 3
ftitle = 'trained at L = 256 (dashed), sliding window, stride 128'
xmin = 204.8
xmax = 10240
ymin = 2.23116
ymax = 48.8641
xtics = '("" 256 1, "512" 512, "" 1024 1, "2k" 2048, "" 4096 1, "8k" 8192)'
xticsnl = '("" 256, "" 512, "" 1024, "" 2048, "" 4096, "" 8192)'
ytics = '(3, 5, 7, 10, 20, 30)'
