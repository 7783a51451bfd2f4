# variables for plots/speed_train.gp, written by `posbench plot`
W = 3.400
H = 3.800
dfile = 'speed_train.dat'
have_rss = 1
nbars = 6
xmin = -0.7
xmax = 7.3
tmax = 65964.9
rmax = 78.43
multi_L = 1
have_sd = 1
