# variables for plots/probes_heat.gp, written by `posbench plot`
W = 5.900
H = 2.3
dfile = 'probes_heat_copy_L128.dat'
nD = 4
nT = 3
xtics = "('16' 0, '64' 1, '256' 2, '2016' 3)"
ytics = "('128' 0, '512' 1, '2048' 2)"
array ptitle[2]
ptitle[1] = 'best: Sinusoidal (mean 0.03)'
ptitle[2] = 'worst: ALiBi (mean 0.01)'
