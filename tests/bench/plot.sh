#!/bin/bash
# plot.sh DIR - draws the scale curves of a `make bench` run as PNGs in
# DIR, from DIR/registration-*.dat (written by scale.sh) and
# DIR/results.json:
#   registration.png  emulated agents active against time since start,
#                     plain and with CURVE
#   allocation.png    time in allocation runs to offer every agent,
#                     against the number of frameworks
set -euo pipefail
D=$1
cd "$D"
dats=$(ls registration-*.dat 2>/dev/null | sort -t- -k2 -n || true)
if [ -n "$dats" ]; then
    plot=""
    for f in $dats; do
        n=${f#registration-}
        n=${n%.dat}
        how=""
        case "$n" in *-curve) n=${n%-curve} how=" (CURVE)" ;; esac
        [ "$n" -le 2 ] && continue
        plot="$plot${plot:+, }'$f' using 1:2 with lines lw 2 title '$n agents$how'"
    done
    if [ -n "$plot" ]; then
        gnuplot <<GP
set terminal pngcairo size 800,500 noenhanced
set output 'registration.png'
set title 'cairn-master: emulated agents registered over time'
set xlabel 'seconds since cairn-agent-sim started'
set ylabel 'agents active'
set key left top
set grid
plot $plot
GP
        echo "plot: $D/registration.png" >&2
    fi
fi
jq -r '.results[] | select(.bench == "scale" and (.metric | test("time in allocation runs to offer every agent")))
       | [(.metric | capture("x (?<f>[0-9]+) frameworks").f), .value] | @tsv' results.json \
    >allocation.dat
if [ -s allocation.dat ]; then
    gnuplot <<GP
set terminal pngcairo size 800,500 noenhanced
set output 'allocation.png'
set title 'cairn-master: allocation time to offer every agent (real connections)'
set xlabel 'frameworks'
set ylabel 'ms in allocation runs'
set logscale x
set grid
set key off
plot 'allocation.dat' using 1:2 with linespoints lw 2 pt 7
GP
    echo "plot: $D/allocation.png" >&2
fi
