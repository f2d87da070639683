#!/bin/sh
# spikemesh plot: every plot kind renders a non-empty PNG from a small
# recorded run (20 frames at packet detail on a 3x3 mesh, a tiny noc sweep,
# two more runs for the sweep scatter), the scripts it leaves run as they
# are with `gnuplot KIND.gp` in the output directory, the numbers in the
# data files (KIND.dat) are the ones independent SQL finds in the database,
# and bad arguments give clear errors.  Skipped (exit 77) without gnuplot, the sqlite3 shell
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
# rows FILE [BLOCK]: the data rows of a .dat file, of its BLOCK'th block
# (0 by default; blocks end at two blank lines, as gnuplot's `index` counts)
rows() {
  awk -v want="${2:-0}" '/^$/ {blank++; next}
    {if (blank >= 2) blk++; blank = 0}
    /^#/ {next}
    blk == want' "$1"
}
# same DESCRIPTION EXPECTED GOT: the two files hold the same rows, field by
# field; numbers may differ by 1e-5 relative (a .dat prints 6 digits)
same() {
  if [ ! -s "$2" ] || [ ! -s "$3" ]; then
    bad "$1: no rows (expected $(wc -l <"$2"), got $(wc -l <"$3"))"
    return
  fi
  if awk 'function num(v) {return v ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/}
    NR == FNR {a[FNR] = $0; na = FNR; next}
    {nb = FNR; n = split(a[FNR], x); m = split($0, y); diff = n != m
     for (i = 1; i <= n && !diff; i++) {
       if (x[i] "" == y[i] "") continue
       d = x[i] - y[i]; d = d < 0 ? -d : d; s = x[i] < 0 ? -x[i] : x[i]
       diff = !num(x[i]) || !num(y[i]) || d > 1e-5 * s + 1e-9
     }
     if (diff && !shown++) print "row " FNR ": expected \"" a[FNR] "\", got \"" $0 "\""
     bad += diff}
    END {if (na != nb) print na " rows expected, " nb " got"; exit bad || na != nb}' \
    "$2" "$3" >"$tmp/same.out"; then
    ok "$1"
  else
    bad "$1: $(head -2 "$tmp/same.out" | tr '\n' ' ')"
  fi
}
q() { sqlite3 -separator ' ' "$@"; }
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
pct=$(sqlite3 "$tmp/a.db" "SELECT printf('%.6g', 100.0 * avg(CAST(neurons - fired AS REAL) / neurons)) FROM layer_frames WHERE run_id=1 AND layer=1")
awk -v p="$pct" '$1 == 1 && $4 == p {f=1} END {exit !f}' "$tmp/p/inactive.dat" &&
  ok "inactive: layer 1 at $pct%" || bad "inactive.dat layer 1 != $pct"

# ---- the data files' numbers against the database -------------------------
db=$tmp/a.db p=$tmp/p
F="(SELECT count(*) FROM frames WHERE run_id=1)"
NODES="WITH RECURSIVE n(node) AS (SELECT 0 UNION ALL SELECT node + 1 FROM n WHERE node < 8)"

# inactive: per layer, neurons, mean spikes and the share of neurons that
# never fired in a frame (each layer has one size, so the share of the sums
# is the mean of the shares)
q "$db" "SELECT layer, max(neurons), 1.0 * sum(spikes) / count(*),
  100.0 - 100.0 * sum(fired) / sum(neurons) FROM layer_frames WHERE run_id=1
  GROUP BY layer ORDER BY layer" >"$tmp/want"
rows "$p/inactive.dat" >"$tmp/got"
same "inactive.dat: every layer's neurons, mean spikes and inactive %" "$tmp/want" "$tmp/got"

# energy: every frame's terms in uJ, and the terms add up to the total
q "$db" "SELECT frame, e_static_pj / 1e6, e_hop_pj / 1e6, e_sop_pj / 1e6,
  e_total_pj / 1e6 FROM frames WHERE run_id=1 ORDER BY frame" >"$tmp/want"
rows "$p/energy.dat" >"$tmp/got"
same "energy.dat: static, hop, SOP and total of each of the 20 frames" "$tmp/want" "$tmp/got"
rows "$p/energy.dat" | awk '{print $1, $5}' >"$tmp/want"
rows "$p/energy.dat" | awk '{print $1, $2 + $3 + $4}' >"$tmp/got"
same "energy.dat: static + hop + SOP = total in every frame" "$tmp/want" "$tmp/got"

# energy-dist: the histogram counts every frame once; mean and median
rows "$p/energy-dist.dat" | awk '{n += $2; f += $3} END {print n, f}' >"$tmp/got"
q "$db" "SELECT count(*), 1 FROM frames WHERE run_id=1" >"$tmp/want"
same "energy-dist.dat: counts sum to the frames, fractions to 1" "$tmp/want" "$tmp/got"
sed -n 's/.*mean \([^,]*\), median \([^,]*\),.*/\1 \2/p' "$p/energy-dist.dat" >"$tmp/got"
q "$db" "SELECT avg(e_total_pj) / 1e6, (SELECT e_total_pj / 1e6 FROM frames
  WHERE run_id=1 ORDER BY e_total_pj LIMIT 1 OFFSET ($F - 1) / 2) FROM frames
  WHERE run_id=1" >"$tmp/want"
same "energy-dist.dat: mean and median energy per frame" "$tmp/want" "$tmp/got"

# links: each router's ejection and each directed link inside the 3x3 mesh,
# busy time over frame time summed over frames / frames (0 without rows)
q "$db" "$NODES SELECT node, node % 3, node / 3, coalesce((SELECT
  sum(utilization) FROM links l WHERE run_id=1 AND l.node=n.node AND dir=4),
  0) / $F FROM n ORDER BY node" >"$tmp/want"
rows "$p/links.dat" 0 >"$tmp/got"
same "links.dat: the ejection utilization of each of the 9 routers" "$tmp/want" "$tmp/got"
q "$db" "$NODES, d(dir) AS (VALUES (0), (1), (2), (3)) SELECT node, dir,
  coalesce((SELECT sum(utilization) FROM links l WHERE run_id=1 AND
  l.node=n.node AND l.dir=d.dir), 0) / $F FROM n, d WHERE NOT ((dir=0 AND
  node / 3 = 0) OR (dir=2 AND node / 3 = 2) OR (dir=3 AND node % 3 = 0) OR
  (dir=1 AND node % 3 = 2)) ORDER BY node, dir" >"$tmp/want"
rows "$p/links.dat" 1 | awk '{print $1, $2, $7}' >"$tmp/got"
same "links.dat: the utilization of each of the 24 directed links" "$tmp/want" "$tmp/got"
[ "$(q "$db" "SELECT count(*) FROM links WHERE run_id=1 AND dir < 4 AND utilization > 0")" -gt 0 ] &&
  ok "links: the run has busy links" || bad "links: no busy link in the database"

# blocked and cores: per node, totals over frames / frames
q "$db" "$NODES SELECT node, node % 3, node / 3, coalesce((SELECT
  sum(blocked_ps) FROM ports WHERE run_id=1 AND ports.node=n.node), 0) / 1e3
  / $F FROM n ORDER BY node" >"$tmp/want"
rows "$p/blocked.dat" | awk '{print $1, $2, $3, $4}' >"$tmp/got"
same "blocked.dat: each node's blocked ns per frame" "$tmp/want" "$tmp/got"
q "$db" "$NODES SELECT node, node % 3, node / 3, 1.0 * coalesce((SELECT
  sum(spikes) FROM cores WHERE run_id=1 AND cores.node=n.node), 0) / $F FROM n
  ORDER BY node" >"$tmp/want"
rows "$p/cores.dat" | awk '{print $1, $2, $3, $4}' >"$tmp/got"
same "cores.dat: each node's spikes per frame" "$tmp/want" "$tmp/got"

# latency: the histogram, rebuilt here from the packet rows (bins of
# (max - min) / nb, nb = floor(sqrt(n)) + 1 clamped to 5..60), its counts
# summing to the packet rows; mean, median and p99 from SQL
q "$db" "SELECT t_eject_ps - t_send_ps FROM packets WHERE run_id=1" | awk '
  {v[NR] = $1 * 1e-3; lo = NR == 1 || v[NR] < lo ? v[NR] : lo
   hi = NR == 1 || v[NR] > hi ? v[NR] : hi}
  END {nb = int(sqrt(NR)) + 1; nb = nb > 60 ? 60 : nb < 5 ? 5 : nb
    w = (hi - lo) / nb
    for (i = 1; i <= NR; i++) {b = int((v[i] - lo) / w); c[b < nb ? b : nb - 1]++}
    for (b = 0; b < nb; b++) printf "%.9g %d %.9g\n", lo + (b + 0.5) * w, c[b], c[b] / NR}' >"$tmp/want"
rows "$p/latency.dat" >"$tmp/got"
same "latency.dat: every bin's centre, count and fraction" "$tmp/want" "$tmp/got"
n=$(rows "$p/latency.dat" | awk '{n += $2} END {print n}')
m=$(q "$db" "SELECT count(*) FROM packets WHERE run_id=1")
[ "$n" = "$m" ] && [ "$m" -gt 1000 ] && ok "latency.dat: counts sum to the $m packet rows" ||
  bad "latency.dat: counts sum to $n, $m packets"
sed -n 's/.*mean \([^,]*\), median \([^,]*\), p99 \([^)]*\)).*/\1 \2 \3/p' "$p/latency.dat" >"$tmp/got"
P="(SELECT count(*) FROM packets WHERE run_id=1)"
L="SELECT (t_eject_ps - t_send_ps) / 1e3 FROM packets WHERE run_id=1 ORDER BY 1 LIMIT 1 OFFSET"
q "$db" "SELECT avg(t_eject_ps - t_send_ps) / 1e3, ($L ($P - 1) / 2),
  ($L CAST(($P - 1) * 0.99 AS INTEGER)) FROM packets WHERE run_id=1" >"$tmp/want"
same "latency.dat: mean, median and p99 latency" "$tmp/want" "$tmp/got"

# raster: frame 0's spikes per layer; noc: the sweep's points
q "$db" "SELECT layer, count(*) FROM spikes WHERE run_id=1 AND frame=0 GROUP BY
  layer ORDER BY layer" >"$tmp/want"
rows "$p/raster.dat" | awk '{c[$1]++} END {for (l = 0; l in c; l++) print l, c[l]}' >"$tmp/got"
same "raster.dat: frame 0's spikes of each layer" "$tmp/want" "$tmp/got"
q "$db" "SELECT run_id, offered, accepted, latency_mean, latency_p50,
  latency_p99, latency_max, saturated FROM noc_points ORDER BY run_id, offered" >"$tmp/want"
rows "$p/noc.dat" >"$tmp/got"
same "noc.dat: every noc_points row" "$tmp/want" "$tmp/got"

# pareto: per run, mean energy, latency and accuracy; the front is the runs
# no other run matches or beats in all three and beats in one
pareto_sql() { # pareto_sql KIND: "MEANS" rows, then "FRONT" rows
  echo "WITH m AS (SELECT f.run_id AS r, sum(e_total_pj) / count(*) / 1e6 AS e,
    sum(latency_ps) / count(*) / 1e6 AS l, 100.0 * sum(label = prediction) /
    count(*) AS a FROM frames f JOIN runs USING (run_id) WHERE kind='$1'
    GROUP BY f.run_id)"
}
pareto_check() { # pareto_check DESC DB DAT KIND
  q "$2" "$(pareto_sql "$4") SELECT r, e, l, a FROM m ORDER BY e, l" >"$tmp/want"
  rows "$3" 0 | awk '{print $1, $2, $3, $4}' >"$tmp/got"
  same "$1: every run's means" "$tmp/want" "$tmp/got"
  q "$2" "$(pareto_sql "$4") SELECT r, e, l, a FROM m AS p WHERE NOT EXISTS
    (SELECT 1 FROM m AS o WHERE o.e <= p.e AND o.l <= p.l AND o.a >= p.a AND
    (o.e < p.e OR o.l < p.l OR o.a > p.a)) ORDER BY e, l" >"$tmp/want"
  rows "$3" 1 >"$tmp/got"
  same "$1: the front over energy, latency and accuracy" "$tmp/want" "$tmp/got"
}
pareto_check "pareto.dat (three runs)" "$db" "$p/pareto.dat" run
# and on 24 sweep points with tied figures, points k and k + 20 equal (the
# plain runs then stay out): 13 on the front, only 2 of them on the front
# of energy and latency alone
cp "$db" "$tmp/sw.db"
q "$tmp/sw.db" "WITH RECURSIVE i(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM i
  WHERE k < 23) INSERT INTO runs(run_id, kind, status, config, point_key,
  version, seed, frames_planned, frames_done, started_at) SELECT 100 + k,
  'sweep', 'complete', '{}', '{\"p\":' || k || '}', 'test', 1, 4, 4, 'now'
  FROM i;
  WITH RECURSIVE i(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM i WHERE k < 23),
  f(n) AS (VALUES (0), (1), (2), (3)) INSERT INTO frames(run_id, frame, label,
  prediction, latency_ps, e_total_pj) SELECT 100 + k, n, 1,
  CASE WHEN n < (k * k + k / 4) % 5 THEN 1 ELSE 2 END,
  1000000 * (1 + (k * 7) % 5), 1e6 * (2 + k % 4) FROM i, f" ||
  bad "fake sweep points"
./spikemesh plot "$tmp/sw.db" --kind pareto --out "$tmp/sw" >/dev/null 2>&1 ||
  bad "pareto plot of the sweep points"
pareto_check "pareto.dat (24 sweep points)" "$tmp/sw.db" "$tmp/sw/pareto.dat" sweep
n=$(rows "$tmp/sw/pareto.dat" 1 | wc -l)
[ "$n" = 13 ] && ok "pareto: $n of 24 sweep points on the front" ||
  bad "pareto: $n of 24 on the front, expected 13"
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

# a conv+pool layer: "never fired" counts neurons before pooling, the
# raster's y divides by the outputs after pooling (what spike indices run
# over); the shipped CNN's layer 1 is 16x24x24 pooled 2x2
./spikemesh run --model "$srcdir/models/fmnist-cnn.json" --frames 3 --quiet \
  --db "$tmp/cnn.db" --detail spike >/dev/null || bad "CNN run"
./spikemesh plot "$tmp/cnn.db" --kind inactive,raster --out "$tmp/c" >/dev/null 2>&1 ||
  bad "CNN plots"
q "$tmp/cnn.db" "SELECT neurons, outputs, pool FROM layers WHERE layer=1" >"$tmp/got"
echo "9216 2304 2" >"$tmp/want"
same "layers row of the CNN's pooled conv layer" "$tmp/want" "$tmp/got"
want=$(q "$tmp/cnn.db" "SELECT printf('%.6g', 100.0 - 100.0 * sum(fired) / sum(neurons)) FROM layer_frames WHERE layer=1")
wrong=$(q "$tmp/cnn.db" "SELECT printf('%.6g', 100.0 - 100.0 * sum(spikes) / sum(neurons)) FROM layer_frames WHERE layer=1")
got=$(awk '!/^#/ && $1 == 1 {print $4}' "$tmp/c/inactive.dat")
[ -n "$got" ] && [ "$got" = "$want" ] && [ "$want" != "$wrong" ] &&
  ok "inactive: the CNN's layer 1 at $want% never fired (not $wrong%, post-pool spikes over pre-pool neurons)" ||
  bad "inactive CNN layer 1: got '$got', want $want (wrong formula gives $wrong)"
q "$tmp/cnn.db" "SELECT printf('%.6g', 1.0 * max(neuron) / 2303) FROM spikes WHERE frame=0 AND layer=1" >"$tmp/want"
awk '!/^#/ && $1 == 1 {if ($4 > m) m = $4} END {printf "%.6g\n", m}' "$tmp/c/raster.dat" >"$tmp/got"
same "raster: layer 1's y is neuron / (outputs - 1)" "$tmp/want" "$tmp/got"
awk '!/^#/ && $4 > 1 {bad = 1} END {exit bad}' "$tmp/c/raster.dat" &&
  ok "raster: every y within [0, 1]" || bad "raster: a y above 1"

# a replay's mesh comes from its run row: a 4x4 replay of a 3x3 run is
# drawn on 4x4 (every node of the replay's link rows inside the picture)
./spikemesh replay --from-db "$tmp/a.db" --run 1 --mesh 4x4 --db "$tmp/r.db" >/dev/null ||
  bad "replay on 4x4"
./spikemesh plot "$tmp/r.db" --kind links --out "$tmp/r" >/dev/null 2>&1 || bad "replay links plot"
q "$tmp/r.db" "SELECT mesh_width || 'x' || mesh_height FROM runs" >"$tmp/got"
echo 4x4 >"$tmp/want"
same "replay run row: mesh 4x4" "$tmp/want" "$tmp/got"
q "$tmp/r.db" "SELECT printf('%.6g', sum(flits)) FROM links WHERE dir != 4" >"$tmp/want"
awk '/^# block 1/ {b = 1} b && !/^#/ && NF == 7 {s += $7} END {print (s > 0)}' "$tmp/r/links.dat" >"$tmp/got"
echo 1 >"$tmp/want"
same "replay links plot: the 4x4 mesh carries flits" "$tmp/want" "$tmp/got"
grep -q "set xrange \[-0.6:3.6\]" "$tmp/r/links.gp" &&
  grep -q "set yrange \[3.6:-0.6\]" "$tmp/r/links.gp" && ok "replay links plot drawn on 4x4" ||
  bad "replay links plot not 4x4: $(grep range "$tmp/r/links.gp" | head -2)"

# bad arguments
check "missing database" 2 "nope.db: No such file" -- ./spikemesh plot "$tmp/nope.db"
cp "$tmp/a.db" "$tmp/old.db"
sqlite3 "$tmp/old.db" "UPDATE meta SET value='1' WHERE key='schema_version'"
check "database of another version" 2 "schema version 1, this spikemesh reads version 5" -- \
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
# every database this test recorded passes the audit (spikemesh db check)
for f in "$tmp"/*.db; do
  case $(basename "$f") in old.db|junk.db|sw.db) continue ;; esac  # made up or tampered on purpose
  [ -f "$f" ] || continue
  ./spikemesh db check "$f" > "$tmp/audit.out" 2>&1 ||
    bad "db check $(basename "$f"): $(grep -v '^  ok' "$tmp/audit.out" | head -5)"
done
exit $fail
