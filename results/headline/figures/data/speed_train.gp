# variables for plots/speed_train.gp, written by `posbench plot`
W = 7.360
H = 3.800
dfile = 'speed_train.dat'
have_rss = 1
nbars = 8
xmin = -0.7
xmax = 10.1
tmax = 89559.1
rmax = 82.915
multi_L = 1
have_sd = 1
