# variables for plots/probes_heat.gp, written by `posbench plot`
W = 5.900
H = 2.3
dfile = 'probes_heat_passkey_L128.dat'
nD = 6
nT = 3
xtics = "('16' 0, '32' 1, '64' 2, '96' 3, '256' 4, '1024' 5)"
ytics = "('128' 0, '512' 1, '2048' 2)"
array ptitle[2]
ptitle[1] = 'NoPE (mean 0.00, as every method)'
ptitle[2] = 'Sinusoidal (mean 0.00, as every method)'
