#!/bin/sh
# One way to set the mesh: noc.width / noc.height (0 x 0: auto) are
# honoured by every command that takes them, --mesh WxH|auto (run.mesh in a
# sweep) is the same keys, a contradiction between the two is refused, and
# the run row and its configuration record the mesh used.  Keys a command
# does not use are refused there, naming the key and the command, and its
# --help lists only the keys it takes.  The direction tables of the
# database (link_dirs, port_dirs) name what the routes of a known
# placement must use.
# Needs the sqlite3 shell and the Fashion-MNIST test set (skipped without).
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
data=/usr/share/datasets/fashion-mnist
[ -e "$data/t10k-labels-idx1-ubyte.gz" ] || [ -e "$data/t10k-labels-idx1-ubyte" ] ||
  { echo "skip: no $data"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
q() { sqlite3 "$1" "$2"; }
conf() { # conf DB KEY: the key of the newest run's configuration
  sqlite3 "$1" "SELECT json_extract(config, '\$.\"$2\"') FROM runs ORDER BY run_id DESC LIMIT 1"
}
mesh() { # mesh DB: WxH of the run row, then of noc.width x noc.height in its config
  echo "$(q "$1" "SELECT mesh_width || 'x' || mesh_height FROM runs ORDER BY run_id DESC LIMIT 1")" \
    "$(conf "$1" noc.width)x$(conf "$1" noc.height)"
}
refused() { # refused NAME PATTERN CMD...: exit 2 and PATTERN on stderr
  name=$1 pat=$2
  shift 2
  "$@" >"$tmp/o" 2>"$tmp/e"; st=$?
  [ $st = 2 ] && grep -q -- "$pat" "$tmp/e" && ok "$name" ||
    bad "$name: exit $st: $(cat "$tmp/e" | head -3)"
}
R="./spikemesh run --frames 3 --quiet"

# ---- run ---------------------------------------------------------------------
# The MLP maps onto 3 cores: auto is 2x2, recorded as such (never 0 or the
# 8 of an old default).
$R --db "$tmp/auto.db" >/dev/null || bad "run auto"
[ "$(mesh "$tmp/auto.db")" = "2x2 2x2" ] && [ "$(conf "$tmp/auto.db" run.mesh_width)" = 2 ] &&
  ok "auto: run row and config record the 2x2 used" || bad "auto: $(mesh "$tmp/auto.db")"
$R --db "$tmp/k33.db" noc.width=3 noc.height=3 >/dev/null || bad "run noc.width=3 noc.height=3"
$R --db "$tmp/m33.db" --mesh 3x3 >/dev/null || bad "run --mesh 3x3"
[ "$(mesh "$tmp/k33.db")" = "3x3 3x3" ] && ok "noc.width=3 noc.height=3: a 3x3 run" ||
  bad "keys: $(mesh "$tmp/k33.db")"
[ "$(mesh "$tmp/m33.db")" = "3x3 3x3" ] && ok "--mesh 3x3: a 3x3 run" || bad "--mesh: $(mesh "$tmp/m33.db")"
[ "$(./spikemesh db digest --data "$tmp/k33.db" | cut -d' ' -f1)" = \
  "$(./spikemesh db digest --data "$tmp/m33.db" | cut -d' ' -f1)" ] &&
  ok "--mesh 3x3 and the keys are the same run (data digest)" || bad "--mesh and keys differ"
$R --db "$tmp/a2.db" --mesh 2x2 >/dev/null &&
  [ "$(./spikemesh db digest --data "$tmp/a2.db" | cut -d' ' -f1)" = \
    "$(./spikemesh db digest --data "$tmp/auto.db" | cut -d' ' -f1)" ] &&
  ok "auto and --mesh 2x2 are the same run (data digest)" || bad "auto vs 2x2"

# hops follow the geometry: row-major placement puts the layers' cores on
# nodes 0, 1, 2; on 2x2 node 2 is (0,1), two hops from node 1 = (1,0); on
# 3x3 it is (2,0), one hop away.  Layer 0 is one hop either way.
for m in 2x2 3x3; do
  $R --db "$tmp/h$m.db" --detail layer --mesh $m map.placement=rowmajor >/dev/null ||
    bad "rowmajor $m"
done
per_hop() { q "$1" "SELECT group_concat(r, ' ') FROM (SELECT layer, sum(hops) * 1.0 / sum(spikes) AS r FROM layer_frames WHERE layer < 2 GROUP BY layer ORDER BY layer)"; }
[ "$(per_hop "$tmp/h2x2.db")" = "1.0 2.0" ] && [ "$(per_hop "$tmp/h3x3.db")" = "1.0 1.0" ] &&
  ok "hops per spike: 1, 2 on 2x2 and 1, 1 on 3x3 (the mesh used)" ||
  bad "hops per spike: 2x2 $(per_hop "$tmp/h2x2.db"), 3x3 $(per_hop "$tmp/h3x3.db")"

refused "--mesh and a key that disagrees" "mesh 3x3 means noc.width=3, but noc.width=4" \
  $R --mesh 3x3 noc.width=4
refused "--mesh auto and a key that is not auto" "auto" $R --mesh auto noc.height=5
refused "one side auto, the other not" "noc.width=3, noc.height=0: give both" $R noc.width=3
$R --mesh 3x3 noc.width=3 >/dev/null 2>&1 && ok "--mesh and a key that agree" || bad "agreeing keys refused"
refused "a mesh too small for the mapping" "short by" $R noc.width=1 noc.height=2
refused "run refuses train.* (not used by run)" "key 'train.epochs' is not used by run" \
  $R train.epochs=2
refused "run refuses traffic.*" "key 'traffic.rates' is not used by run" $R traffic.rates=0.2
refused "run refuses synth.*" "key 'synth.seed' is not used by run" $R synth.seed=2
./spikemesh run --help > "$tmp/help"
grep -q "^  noc.width=0 .*auto" "$tmp/help" && ! grep -q "train.epochs\|traffic.rates\|synth.seed" "$tmp/help" &&
  ok "run --help: noc.width=0 (auto), no keys run refuses" || bad "run --help"

# ---- replay ------------------------------------------------------------------
$R --db "$tmp/sp.db" --detail spike >/dev/null || bad "run at spike detail"
./spikemesh replay --from-db "$tmp/sp.db" --db "$tmp/rp.db" noc.width=4 noc.height=4 >/dev/null ||
  bad "replay with noc.width=4 noc.height=4"
[ "$(mesh "$tmp/rp.db")" = "4x4 4x4" ] && ok "replay: noc.width/height honoured and recorded" ||
  bad "replay: $(mesh "$tmp/rp.db")"
./spikemesh replay --from-db "$tmp/sp.db" --db "$tmp/ra.db" >/dev/null || bad "replay auto"
[ "$(mesh "$tmp/ra.db")" = "2x2 2x2" ] && ok "replay auto: the mapper's 2x2, recorded" ||
  bad "replay auto: $(mesh "$tmp/ra.db")"
refused "replay: --mesh against a key" "but noc.height=3" \
  ./spikemesh replay --from-db "$tmp/sp.db" --mesh 4x4 noc.height=3
refused "replay refuses traffic.*" "not used by replay" \
  ./spikemesh replay --from-db "$tmp/sp.db" traffic.pattern=transpose
# a packet trace: auto is the trace's own mesh
./spikemesh trace export --db "$tmp/sp.db" --kind packet -o "$tmp/p.trace" >/dev/null ||
  bad "packet trace export"
./spikemesh replay --trace "$tmp/p.trace" --db "$tmp/pt.db" >/dev/null &&
  [ "$(mesh "$tmp/pt.db")" = "2x2 2x2" ] && ok "packet trace, auto: the trace's own 2x2" ||
  bad "packet trace auto: $(mesh "$tmp/pt.db" 2>/dev/null)"
refused "replay of a packet trace refuses map.* (no mapping)" \
  "key 'map.placement' is not used by the replay of a packet trace" \
  ./spikemesh replay --trace "$tmp/p.trace" map.placement=rowmajor
./spikemesh replay --trace "$tmp/p.trace" --db "$tmp/rt.db" noc.width=5 noc.height=5 >/dev/null &&
  [ "$(mesh "$tmp/rt.db")" = "5x5 5x5" ] && ok "packet trace: noc.width/height honoured" ||
  bad "packet trace 5x5: $(mesh "$tmp/rt.db" 2>/dev/null)"

# ---- sweep -------------------------------------------------------------------
cat > "$tmp/g.json" <<'G'
{"frames": 2, "grid": {"noc.width": [2, 3], "noc.height": [2, 4]}}
G
./spikemesh sweep "$tmp/g.json" --jobs 1 --db "$tmp/g.db" --quiet >/dev/null || bad "sweep over noc.width x noc.height"
got=$(q "$tmp/g.db" "SELECT group_concat(m, ' ') FROM (SELECT mesh_width || 'x' || mesh_height || '/' || json_extract(config, '$.\"noc.width\"') || 'x' || json_extract(config, '$.\"noc.height\"') AS m FROM runs ORDER BY m)")
[ "$got" = "2x2/2x2 2x4/2x4 3x2/3x2 3x4/3x4" ] && ok "sweep axes noc.width, noc.height: each point's mesh" ||
  bad "sweep meshes: $got"
keys=$(q "$tmp/g.db" "SELECT count(*) FROM runs WHERE point_key LIKE '%\"run.mesh\":\"' || mesh_width || 'x' || mesh_height || '\"%' AND point_key NOT LIKE '%noc.width%'")
[ "$keys" = 4 ] && ok "sweep point keys spell the mesh as run.mesh" || bad "point keys: $keys"
badgrid() { # badgrid NAME GRID PATTERN
  printf '%s\n' "$2" > "$tmp/b.json"
  refused "$1" "$3" ./spikemesh sweep "$tmp/b.json" --db "$tmp/b.db" --quiet
}
badgrid "sweep: run.mesh against noc.width" \
  '{"frames": 1, "base": {"noc.width": 3}, "grid": {"mesh": ["2x2"]}}' "run.mesh '2x2' means noc.width=2, but noc.width=3"
badgrid "sweep: the same point spelled twice" \
  '{"frames": 1, "points": [{"mesh": "3x3"}, {"noc.width": 3, "noc.height": 3}]}' "are the same point"
badgrid "sweep: one side auto" '{"frames": 1, "grid": {"noc.width": [3]}}' "give both sides"
badgrid "sweep refuses a key a run does not use" '{"frames": 1, "grid": {"traffic.rates": ["0.1"]}}' \
  "key 'traffic.rates' is not used by a sweep point"

# ---- noc ---------------------------------------------------------------------
N="./spikemesh noc traffic.rates=0.05 traffic.warmup=100 traffic.measure=500 traffic.drain=2000"
$N --db "$tmp/n.db" >/dev/null || bad "noc default"
[ "$(mesh "$tmp/n.db")" = "8x8 8x8" ] && ok "noc: auto is 8x8, recorded" || bad "noc default: $(mesh "$tmp/n.db")"
$N --db "$tmp/n3.db" noc.width=3 noc.height=2 >/dev/null || bad "noc 3x2"
[ "$(mesh "$tmp/n3.db")" = "3x2 3x2" ] && ok "noc: noc.width=3 noc.height=2 honoured" || bad "noc: $(mesh "$tmp/n3.db")"
$N --mesh 3x2 --json | sed 's/"wall_s":[^,]*,//' > "$tmp/a"
$N noc.width=3 noc.height=2 --json | sed 's/"wall_s":[^,]*,//' > "$tmp/b"
grep -q '"width":3,"height":2' "$tmp/a" && cmp -s "$tmp/a" "$tmp/b" &&
  ok "noc: --mesh 3x2 is noc.width=3 noc.height=2" || bad "noc --mesh: $(head -c 300 "$tmp/a")"
refused "noc refuses core.*" "key 'core.neurons_per_core' is not used by noc" $N core.neurons_per_core=256
refused "noc refuses map.*" "key 'map.placement' is not used by noc" $N map.placement=rowmajor
refused "noc refuses energy.*" "key 'energy.e_hop_pj' is not used by noc" $N energy.e_hop_pj=1
refused "noc: --mesh against a key" "but noc.width=4" $N --mesh 3x3 noc.width=4
./spikemesh noc --help > "$tmp/help"
grep -q "^  noc.width=0" "$tmp/help" && grep -q "^  traffic.rates=" "$tmp/help" &&
  ! grep -q "core.neurons_per_core\|map.placement\|energy.e_hop_pj" "$tmp/help" &&
  ok "noc --help lists the keys noc takes only" || bad "noc --help"
refused "bench noc refuses core.*" "not used by bench noc" ./spikemesh bench noc core.sop_ps=3

# ---- bench vgg (the MLP as its model: quick) ----------------------------------
./spikemesh bench vgg --model "$srcdir/models/fmnist-mlp.json" --frames 1 --no-unicast \
  noc.width=3 noc.height=4 > "$tmp/bv" 2>&1 &&
  grep -q "3 cores, 3x4 mesh" "$tmp/bv" && ok "bench vgg: noc.width/height honoured" ||
  bad "bench vgg: $(grep mapping "$tmp/bv")"
refused "bench vgg refuses traffic.*" "not used by bench vgg" \
  ./spikemesh bench vgg --model "$srcdir/models/fmnist-mlp.json" traffic.rates=0.1

# ---- the other commands' keys --------------------------------------------------
refused "energy frame refuses noc.*" "key 'noc.width' is not used by energy frame" \
  ./spikemesh energy frame --sops 1 --hops 1 noc.width=3
refused "synth refuses core.sram_bytes" "key 'core.sram_bytes' is not used by synth" \
  ./spikemesh synth --out "$tmp/s.json" core.sram_bytes=3
refused "train refuses noc.*" "key 'noc.width' is not used by train" ./spikemesh train noc.width=3
./spikemesh train --help | grep -q "^  train.arch=" && ! ./spikemesh train --help | grep -q "noc.width" &&
  ok "train --help lists train.* only" || bad "train --help"
./spikemesh config noc.width=3 noc.height=3 train.epochs=2 | grep -q '"noc.width": 3' &&
  ok "config takes every key" || bad "config"

# ---- the direction tables -------------------------------------------------------
# Row-major on 2x2: input core on node 0 = (0,0), hidden on node 1 = (1,0),
# output on node 2 = (0,1).  XY routes: 0 -> 1 east; 1 -> 2 west to node 0,
# then south to node 2.  So the links that carry flits are exactly these,
# read through the names of link_dirs and port_dirs (the joins of
# doc/recorder.md).
V="$tmp/v.db"
$R --db "$V" --detail link --mesh 2x2 map.placement=rowmajor >/dev/null || bad "run at link detail"
got=$(q "$V" "SELECT group_concat(c || d, ' ') FROM (SELECT code AS c, name AS d FROM link_dirs ORDER BY code)")
[ "$got" = "0N 1E 2S 3W 4L" ] && ok "link_dirs: 0 N, 1 E, 2 S, 3 W, 4 L" || bad "link_dirs: $got"
got=$(q "$V" "SELECT group_concat(c || d, ' ') FROM (SELECT code AS c, name AS d FROM port_dirs ORDER BY code)")
[ "$got" = "0N 1E 2S 3W 4L" ] && ok "port_dirs: 0 N, 1 E, 2 S, 3 W, 4 L" || bad "port_dirs: $got"
LINKS="SELECT l.frame, l.node, l.node % r.mesh_width AS x, l.node / r.mesh_width AS y, d.name AS dir, l.node + d.dy * r.mesh_width + d.dx AS to_node, l.flits FROM links l JOIN link_dirs d ON d.code = l.dir JOIN runs r ON r.run_id = l.run_id"
got=$(q "$V" "SELECT group_concat(l, ' ') FROM (SELECT DISTINCT node || '(' || x || ',' || y || ')' || dir || '>' || to_node AS l FROM ($LINKS) ORDER BY node, dir)")
[ "$got" = "0(0,0)E>1 0(0,0)S>2 1(1,0)L>1 1(1,0)W>0 2(0,1)L>2" ] &&
  ok "links by name and (x, y): the XY routes of the placement" || bad "links by name: $got"
# flits: east from node 0 carry the input spikes, west and south the hidden layer's
got=$(q "$V" "WITH n AS ($LINKS) SELECT count(*) FROM layer_frames l0 JOIN layer_frames l1 ON l1.frame = l0.frame AND l1.layer = 1 WHERE l0.layer = 0 AND (SELECT flits FROM n WHERE frame = l0.frame AND node = 0 AND dir = 'E') = l0.spikes AND (SELECT flits FROM n WHERE frame = l0.frame AND node = 1 AND dir = 'W') = l1.spikes AND (SELECT flits FROM n WHERE frame = l0.frame AND node = 0 AND dir = 'S') = l1.spikes")
[ "$got" = 3 ] && ok "flits east = input spikes, west and south = hidden spikes" ||
  bad "flits by direction: $got of 3 frames"
got=$(q "$V" "SELECT group_concat(l, ' ') FROM (SELECT DISTINCT p.node || d.name || '<' || (p.node + d.dy * r.mesh_width + d.dx) AS l FROM ports p JOIN port_dirs d ON d.code = p.port JOIN runs r ON r.run_id = p.run_id WHERE p.port != 4 ORDER BY p.node, p.port)")
[ "$got" = "0E<1 1W<0 2N<0" ] && ok "ports by name: inputs from the neighbour each route came from" ||
  bad "ports by name: $got"
[ "$(q "$V" "SELECT value FROM meta WHERE key = 'schema_version'")" = 5 ] && ok "schema version 5" ||
  bad "schema version"
# the tables do not blind SQLite's check for unused pages (a view heading the
# schema would: integrity_check turns partial)
cp "$V" "$tmp/d.db"
sqlite3 "$tmp/d.db" "CREATE TABLE junk(x); INSERT INTO junk VALUES (randomblob(200));
  PRAGMA writable_schema=ON; DELETE FROM sqlite_master WHERE name='junk'; PRAGMA writable_schema=OFF;"
sqlite3 "$tmp/d.db" "PRAGMA integrity_check" | grep -q "never used" &&
  ok "integrity_check still finds an orphan page" || bad "integrity_check blind to an orphan page"
# a version 4 file is upgraded in place: the tables appear, its rows stay
cp "$tmp/auto.db" "$tmp/v4.db"
sqlite3 "$tmp/v4.db" "DROP TABLE link_dirs; DROP TABLE port_dirs; UPDATE meta SET value = '4' WHERE key = 'schema_version'"
$R --db "$tmp/v4.db" >/dev/null &&
  [ "$(q "$tmp/v4.db" "SELECT value FROM meta WHERE key = 'schema_version'") $(q "$tmp/v4.db" "SELECT count(*) FROM link_dirs") $(q "$tmp/v4.db" "SELECT count(*) FROM runs")" = "5 5 2" ] &&
  ok "a version 4 database is upgraded to 5 with the direction tables" || bad "upgrade from version 4"

exit $fail
