# variables for plots/speed_train.gp, written by `posbench plot`
W = 4.900
H = 3.300
dfile = 'speed_train.dat'
have_rss = 1
nbars = 5
xmin = -0.7
xmax = 4.7
tmax = 32453
rmax = 107.18
multi_L = 0
have_sd = 1
