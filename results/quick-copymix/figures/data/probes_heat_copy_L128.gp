# variables for plots/probes_heat.gp, written by `posbench plot`
W = 5.900
H = 2.3
dfile = 'probes_heat_copy_L128.dat'
nD = 7
nT = 3
xtics = "('16' 0, '32' 1, '64' 2, '96' 3, '256' 4, '1024' 5, '2016' 6)"
ytics = "('128' 0, '512' 1, '2048' 2)"
array ptitle[2]
ptitle[1] = 'best: Sinusoidal (mean 0.03)'
ptitle[2] = 'worst: Rotary (mean 0.02)'
