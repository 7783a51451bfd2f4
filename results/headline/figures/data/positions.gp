# variables for plots/positions.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 10.900
H = 2.580
nser = 2
array slabel[2] = ['ALiBi', 'Sinusoidal']
set linetype 1 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
npanel = 4
array pfile[4]
array pL[4]
array pW[4]
array ptitle[4]
array pxmax[4]
array pxtics[4]
pxtics[1] = '("1" 1, "4" 4, "16" 16, "64" 64, "512" 512)'
pxmax[1] = 640
pfile[1] = 'positions_L64.dat'
pL[1] = 64
pW[1] = 512
ptitle[1] = 'trained at L = 64 (dashed), window 512'
pxtics[2] = '("1" 1, "4" 4, "16" 16, "64" 64, "256" 256, "1024" 1024)'
pxmax[2] = 1280
pfile[2] = 'positions_L128.dat'
pL[2] = 128
pW[2] = 1024
ptitle[2] = 'trained at L = 128 (dashed), window 1024'
pxtics[3] = '("1" 1, "4" 4, "16" 16, "64" 64, "256" 256, "2048" 2048)'
pxmax[3] = 2560
pfile[3] = 'positions_L256.dat'
pL[3] = 256
pW[3] = 2048
ptitle[3] = 'trained at L = 256 (dashed), window 2048'
pxtics[4] = '("1" 1, "4" 4, "16" 16, "64" 64, "256" 256, "1024" 1024, "4096" 4096)'
pxmax[4] = 5120
pfile[4] = 'positions_L512.dat'
pL[4] = 512
pW[4] = 4096
ptitle[4] = 'trained at L = 512 (dashed), window 4096'
xmin = 0.8
ymin = 0.0842742
ymax = 4.21937
