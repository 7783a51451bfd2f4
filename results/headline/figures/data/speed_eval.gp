# variables for plots/speed_eval.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 10.900
H = 4.030
nser = 2
array slabel[2] = ['ALiBi', 'Sinusoidal']
set linetype 1 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
npanel = 4
array pfile[4]
array pL[4]
array ptitle[4]
array pxmin[4]
array pxmax[4]
array pxtics[4]
array pxticsnl[4]
pxmin[1] = 51.2
pxmax[1] = 640
pxtics[1] = '("64" 64, "128" 128, "256" 256, "512" 512)'
pxticsnl[1] = '("" 64, "" 128, "" 256, "" 512)'
pfile[1] = 'speed_eval_L64.dat'
pL[1] = 64
ptitle[1] = 'trained at L = 64 (dashed), nonoverlapping'
pxmin[2] = 102.4
pxmax[2] = 1280
pxtics[2] = '("128" 128, "256" 256, "512" 512, "1024" 1024)'
pxticsnl[2] = '("" 128, "" 256, "" 512, "" 1024)'
pfile[2] = 'speed_eval_L128.dat'
pL[2] = 128
ptitle[2] = 'trained at L = 128 (dashed), nonoverlapping'
pxmin[3] = 204.8
pxmax[3] = 2560
pxtics[3] = '("256" 256, "512" 512, "1024" 1024, "2048" 2048)'
pxticsnl[3] = '("" 256, "" 512, "" 1024, "" 2048)'
pfile[3] = 'speed_eval_L256.dat'
pL[3] = 256
ptitle[3] = 'trained at L = 256 (dashed), nonoverlapping'
pxmin[4] = 409.6
pxmax[4] = 5120
pxtics[4] = '("512" 512, "1024" 1024, "2048" 2048, "4096" 4096)'
pxticsnl[4] = '("" 512, "" 1024, "" 2048, "" 4096)'
pfile[4] = 'speed_eval_L512.dat'
pL[4] = 512
ptitle[4] = 'trained at L = 512 (dashed), nonoverlapping'
tmin = 23.1871
tmax = 279.157
rmax = 31.0102
ttics = '(30, 50, 70, 100, 200)'
