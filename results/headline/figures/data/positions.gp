# variables for plots/positions.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 8.400
H = 2.580
nser = 2
array slabel[2] = ['ALiBi', 'Sinusoidal']
set linetype 1 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
npanel = 3
array pfile[3]
array pL[3]
array pW[3]
array ptitle[3]
array pxmax[3]
array pxtics[3]
pxtics[1] = '("1" 1, "4" 4, "16" 16, "64" 64, "256" 256)'
pxmax[1] = 320
pfile[1] = 'positions_L64.dat'
pL[1] = 64
pW[1] = 256
ptitle[1] = 'trained at L = 64 (dashed), window 256'
pxtics[2] = '("1" 1, "4" 4, "16" 16, "64" 64, "512" 512)'
pxmax[2] = 640
pfile[2] = 'positions_L128.dat'
pL[2] = 128
pW[2] = 512
ptitle[2] = 'trained at L = 128 (dashed), window 512'
pxtics[3] = '("1" 1, "4" 4, "16" 16, "64" 64, "256" 256, "1024" 1024)'
pxmax[3] = 1280
pfile[3] = 'positions_L256.dat'
pL[3] = 256
pW[3] = 1024
ptitle[3] = 'trained at L = 256 (dashed), window 1024'
xmin = 0.8
ymin = 0.921022
ymax = 3.71191
