# variables for plots/speed_eval.gp, written by `posbench plot` — edit and re-run gnuplot by hand if you like
W = 8.400
H = 4.030
nser = 2
array slabel[2] = ['ALiBi', 'Sinusoidal']
set linetype 1 lc rgb '#D55E00' lw 1.5 pt 7 ps 0.75 dt solid  # alibi
set linetype 2 lc rgb '#0072B2' lw 1.5 pt 5 ps 0.75 dt solid  # sinusoidal
npanel = 3
array pfile[3]
array pL[3]
array ptitle[3]
array pxmin[3]
array pxmax[3]
array pxtics[3]
array pxticsnl[3]
pxmin[1] = 51.2
pxmax[1] = 320
pxtics[1] = '("64" 64, "128" 128, "256" 256)'
pxticsnl[1] = '("" 64, "" 128, "" 256)'
pfile[1] = 'speed_eval_L64.dat'
pL[1] = 64
ptitle[1] = 'trained at L = 64 (dashed), nonoverlapping'
pxmin[2] = 102.4
pxmax[2] = 640
pxtics[2] = '("128" 128, "256" 256, "512" 512)'
pxticsnl[2] = '("" 128, "" 256, "" 512)'
pfile[2] = 'speed_eval_L128.dat'
pL[2] = 128
ptitle[2] = 'trained at L = 128 (dashed), nonoverlapping'
pxmin[3] = 204.8
pxmax[3] = 1280
pxtics[3] = '("256" 256, "512" 512, "1024" 1024)'
pxticsnl[3] = '("" 256, "" 512, "" 1024)'
pfile[3] = 'speed_eval_L256.dat'
pL[3] = 256
ptitle[3] = 'trained at L = 256 (dashed), nonoverlapping'
tmin = 51.2493
tmax = 229.415
rmax = 16.4902
ttics = '(60, 70, 80, 90, 100, 150, 200)'
