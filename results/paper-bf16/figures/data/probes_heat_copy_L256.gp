# variables for plots/probes_heat.gp, written by `posbench plot`
W = 5.900
H = 2.3
dfile = 'probes_heat_copy_L256.dat'
nD = 5
nT = 3
xtics = "('16' 0, '64' 1, '192' 2, '960' 3, '4032' 4)"
ytics = "('256' 0, '1024' 1, '4096' 2)"
array ptitle[2]
ptitle[1] = 'best: Rotary (mean 0.02)'
ptitle[2] = 'worst: ALiBi (mean 0.02)'
