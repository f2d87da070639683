#!/bin/sh
# spikemesh plot: every plot kind renders a non-empty PNG from a small
# recorded run (20 frames at packet detail on a 3x3 mesh, a tiny noc sweep,
# two more runs for the sweep scatter), the scripts it leaves run as they
# are with `gnuplot KIND.gp` in the output directory, and bad arguments
# give clear errors.  Skipped (exit 77) without gnuplot, the sqlite3 shell
# or the Fashion-MNIST test set.
set -u
command -v gnuplot >/dev/null || { echo "skip: no gnuplot"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
data=/usr/share/datasets/fashion-mnist
[ -e "$data/t10k-labels-idx1-ubyte.gz" ] || [ -e "$data/t10k-labels-idx1-ubyte" ] ||
  { echo "skip: no $data"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
check() { # check DESCRIPTION EXPECTED_STATUS PATTERN -- command...
  desc=$1 want=$2 pat=$3; shift 4
  out=$("$@" 2>&1); got=$?
  if [ "$got" != "$want" ]; then
    bad "$desc: exit $got, expected $want: $(echo "$out" | head -3)"
  elif ! printf '%s' "$out" | grep -q -- "$pat"; then
    bad "$desc: output lacks '$pat': $(echo "$out" | head -3)"
  else
    ok "$desc"
  fi
}

# six cores on a 3x3 mesh, slow links so packets wait
O="core.sram_bytes=60000 map.sram_fit=split noc.t_link=3000"
R="./spikemesh run --frames 20 --mesh 3x3 --quiet --db $tmp/a.db $O"
$R --detail packet >/dev/null || bad "run at packet detail"
$R noc.multicast=unicast >/dev/null || bad "second run"
$R core.steps_per_window=6 >/dev/null || bad "third run"
./spikemesh noc --db "$tmp/a.db" noc.width=3 noc.height=3 \
  traffic.rates=0.1,0.4 traffic.warmup=100 traffic.measure=500 \
  traffic.drain=1000 >/dev/null || bad "noc sweep"

kinds=$(./spikemesh plot --help | sed -n '/^Kinds/,/^$/p' |
  awk '/^  [a-z]/ {print $1}')
[ "$(echo $kinds | wc -w)" -ge 10 ] && ok "help lists $(echo $kinds | wc -w) plot kinds" ||
  bad "plot --help lists kinds: '$kinds'"

check "plot every kind (default: all with data)" 0 "wrote" -- \
  ./spikemesh plot "$tmp/a.db" --run 1 --out "$tmp/p" --format both
for k in $kinds; do
  for f in png svg gp dat; do
    [ -s "$tmp/p/$k.$f" ] || bad "$k: no non-empty $k.$f"
  done
  [ "$(head -c 4 "$tmp/p/$k.png" | od -An -c | tr -d ' ')" = "211PNG" ] ||
    bad "$k.png is not a PNG"
  # the script runs as it is from its directory
  rm -f "$tmp/p/$k.png" "$tmp/p/$k.svg"
  (cd "$tmp/p" && gnuplot "$k.gp" 2>"$tmp/gp.err") && [ -s "$tmp/p/$k.png" ] &&
    [ -s "$tmp/p/$k.svg" ] && ok "$k: renders, and gnuplot $k.gp redraws it" ||
    bad "$k: gnuplot $k.gp: $(head -3 "$tmp/gp.err")"
done
# the raster has one row per spike of the frame; inactive one per layer
n=$(grep -vc '^#' "$tmp/p/raster.dat")
m=$(sqlite3 "$tmp/a.db" "SELECT count(*) FROM spikes WHERE run_id=1 AND frame=0")
[ "$n" = "$m" ] && ok "raster.dat holds frame 0's $m spikes" || bad "raster.dat: $n rows, $m spikes"
pct=$(sqlite3 "$tmp/a.db" "SELECT printf('%.6g', 100.0 * avg(CAST(neurons - spikes AS REAL) / neurons)) FROM layer_frames WHERE run_id=1 AND layer=1")
awk -v p="$pct" '$1 == 1 && $4 == p {f=1} END {exit !f}' "$tmp/p/inactive.dat" &&
  ok "inactive: layer 1 at $pct%" || bad "inactive.dat layer 1 != $pct"
check "--frame and --kind" 0 "raster.png" -- \
  ./spikemesh plot "$tmp/a.db" --run 1 --frame 3 --kind raster,latency --out "$tmp/q"
[ -s "$tmp/q/raster.png" ] && [ -s "$tmp/q/latency.png" ] && [ ! -e "$tmp/q/energy.png" ] &&
  ok "--kind draws only those" || bad "--kind raster,latency"
check "svg only" 0 "energy.svg" -- \
  ./spikemesh plot "$tmp/a.db" --kind energy --format svg --out "$tmp/s"
[ ! -e "$tmp/s/energy.png" ] && ok "--format svg writes no PNG" || bad "--format svg wrote a PNG"

# missing detail, named
check "raster of a summary run" 2 "raster needs a run recorded with --detail spike or higher" -- \
  ./spikemesh plot "$tmp/a.db" --run 2 --kind raster --out "$tmp/x"
check "latency of a summary run" 2 "latency needs a run recorded with --detail packet" -- \
  ./spikemesh plot "$tmp/a.db" --run 2 --kind latency --out "$tmp/x"
check "frame without spikes" 2 "no spikes in frame 99" -- \
  ./spikemesh plot "$tmp/a.db" --run 1 --frame 99 --kind raster --out "$tmp/x"
check "summary run: the rest is skipped by default" 0 "skipped: links needs" -- \
  ./spikemesh plot "$tmp/a.db" --run 2 --out "$tmp/y"

# bad arguments
check "missing database" 2 "nope.db: No such file" -- ./spikemesh plot "$tmp/nope.db"
cp "$tmp/a.db" "$tmp/old.db"
sqlite3 "$tmp/old.db" "UPDATE meta SET value='1' WHERE key='schema_version'"
check "database of another version" 2 "schema version 1, this spikemesh reads version 2" -- \
  ./spikemesh plot "$tmp/old.db" --out "$tmp/x"
echo "not a database" > "$tmp/junk.db"
check "not a database" 2 "not a spikemesh database" -- ./spikemesh plot "$tmp/junk.db"
check "unknown plot kind" 2 "unknown plot kind 'heat'" -- \
  ./spikemesh plot "$tmp/a.db" --kind raster,heat
check "run that does not exist" 2 "--run 42: no such run (run ids 1..4" -- \
  ./spikemesh plot "$tmp/a.db" --run 42
check "bad format" 2 "--format 'jpg'" -- ./spikemesh plot "$tmp/a.db" --format jpg
check "no database" 2 "expected a database" -- ./spikemesh plot
check "gnuplot missing" 1 "gnuplot not found" -- \
  ./spikemesh plot "$tmp/a.db" --kind energy --gnuplot "$tmp/no/gnuplot" --out "$tmp/g"
[ -s "$tmp/g/energy.gp" ] && [ -s "$tmp/g/energy.dat" ] &&
  ok "without gnuplot the script and data are still written" || bad "no script without gnuplot"
check "gnuplot not on PATH" 1 "is not on PATH" -- \
  env PATH=/nonexistent ./spikemesh plot "$tmp/a.db" --kind energy --gnuplot gnuplot --out "$tmp/g"
exit $fail
