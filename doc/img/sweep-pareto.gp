# pareto.gp -- spikemesh plot: energy against latency of every sweep point, coloured by accuracy, with the Pareto front
# Data: pareto.dat (its '#' lines name the columns).  Restyle freely,
# then run `gnuplot pareto.gp` in this directory.
formats = 'png'
do for [fmt in formats] {
if (fmt eq 'svg') {
  set terminal svg size 900,620 dynamic noenhanced font 'sans,11' background 'white'
} else {
  set terminal pngcairo size 900,620 noenhanced font 'sans,10'
}
set output 'pareto.'.fmt
set title 'Energy against latency of 16 runs (kind sweep)'
set xlabel 'energy per frame (uJ)'
set ylabel 'latency per frame (us, first input spike to decision)'
set cblabel 'accuracy (%)'
set grid lc rgb '#dddddd'
set key below
set bmargin 6
set offsets graph 0.08, graph 0.08, graph 0.08, graph 0.08
set cbrange [88.7:89.7]
set palette defined (0 '#b2182b', 0.5 '#fddbc7', 1 '#2166ac')
plot 'pareto.dat' index 1 using 2:3 with steps lw 2 lc rgb '#555555' title 'Pareto front', \
  '' index 1 using 2:3 with points pt 6 ps 3 lw 2 lc rgb '#555555' notitle, \
  '' index 0 using 2:3:4 with points pt 7 ps 2 lc palette title 'run (colour: accuracy)', \
  '' index 0 using 2:3:(sprintf('%d', $1)) with labels offset 1.2,0.6 font ',9' notitle
}
unset output
