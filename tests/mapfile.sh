#!/bin/sh
# The mapping file end to end (models/mapfile.c, spikemesh map, run
# --mapping, the mapping table): the mesh picture against texts worked
# out by hand from the placement rules; a file written, read and written
# again is the same bytes; a run with --mapping of the file written for a
# mapping records the same results (db digest --data) as the run that
# mapped it, and its mapping table says what the file says; a moved group
# is a different run; resume compares the file's digest; each hand edit
# that breaks a rule is refused naming the group (or the layer) and the
# rule; db check catches a tampered mapping row.
# Fast: synthetic frames, the shipped MLP on at most 6 cores.
set -u
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S=./spikemesh
# the shipped MLP 784-800-10 on cores of 784 neurons: the input and the
# output layer one core each, the hidden layer two of 400 neurons
C="core.neurons_per_core=784"

expect() { # expect DESC STATUS PATTERN -- cmd...: exit STATUS, stderr has PATTERN
  d=$1 want=$2 pat=$3; shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
  if [ "$got" = "$want" ] && grep -q -- "$pat" "$tmp/err"; then ok "$d"
  else bad "$d: exit $got (want $want), stderr: $(head -3 "$tmp/err")"; fi
}

# 1. the picture, worked out from the rules: groups 0..3 are the input,
# the two hidden halves, the output; snake fills row 0 left to right and
# row 1 right to left, rowmajor both left to right.
picture() { # the lines from "mesh" to the legend's end
  sed -n '/^mesh /,/\. = free$/p' "$1"
}
$S map $C --mesh 3x2 > "$tmp/snake.out" || bad "map 3x2 snake"
cat > "$tmp/snake.want" <<'E'
mesh 3x2 (x across, y down, node = y * 3 + x): the layer of each node's core, '.' free
      x 012
   y  0 011
      1 ..2
legend: 0 = layer 0 input (1 core), 1 = layer 1 dense (2 cores),
        2 = layer 2 dense (1 core), . = free
E
picture "$tmp/snake.out" | diff "$tmp/snake.want" - > "$tmp/d" &&
  ok "picture of the snake placement on 3x2" || bad "snake picture: $(cat "$tmp/d")"
$S map $C --mesh 3x2 map.placement=rowmajor > "$tmp/row.out" || bad "map rowmajor"
sed 's/^      1 \.\.2$/      1 2../' "$tmp/snake.want" > "$tmp/row.want"
picture "$tmp/row.out" | diff "$tmp/row.want" - > "$tmp/d" &&
  ok "picture of the rowmajor placement on 3x2" || bad "rowmajor picture: $(cat "$tmp/d")"
# wider than 10: a tens line over the units of x
$S map $C --mesh 12x1 > "$tmp/wide.out" || bad "map 12x1"
cat > "$tmp/wide.want" <<'E'
mesh 12x1 (x across, y down, node = y * 12 + x): the layer of each node's core, '.' free
        000000000011
      x 012345678901
   y  0 0112........
legend: 0 = layer 0 input (1 core), 1 = layer 1 dense (2 cores),
        2 = layer 2 dense (1 core), . = free
E
picture "$tmp/wide.out" | diff "$tmp/wide.want" - > "$tmp/d" &&
  ok "picture of a 12-wide mesh with its tens line" || bad "wide picture: $(cat "$tmp/d")"
grep -q "^total: 4 cores on 6 nodes (2 free), 1594 neurons, " "$tmp/snake.out" &&
  ok "totals: 4 cores, 2 free nodes, 784 + 800 + 10 neurons" ||
  bad "totals: $(grep '^total' "$tmp/snake.out")"

# 2. round trip: write, read and assemble, write again
$S map $C --mesh 3x2 map.placement=rowmajor --out "$tmp/m.json" --quiet ||
  bad "map --out"
$S map $C --mapping "$tmp/m.json" --out "$tmp/m2.json" --quiet &&
  cmp -s "$tmp/m.json" "$tmp/m2.json" &&
  ok "mapping file round trip: the same bytes" || bad "round trip differs"
grep -q '"placement": "rowmajor"' "$tmp/m2.json" &&
  ok "the placement written back is the file's, not map.placement's default" ||
  bad "placement lost in the round trip"
$S map --model "$srcdir/models/fmnist-cnn.json" --out "$tmp/cnn.json" --quiet &&
  $S map --model "$srcdir/models/fmnist-cnn.json" --mapping "$tmp/cnn.json" \
    --out "$tmp/cnn2.json" --quiet && cmp -s "$tmp/cnn.json" "$tmp/cnn2.json" &&
  ok "CNN mapping file round trip (halos of conv tiles)" || bad "CNN round trip"

# 3. a run with --mapping records what the run that mapped it recorded
R="$S run --data synthetic:7 --frames 12 --quiet --detail link $C"
$R --mesh 3x2 map.placement=rowmajor --db "$tmp/a.db" > /dev/null || bad "run A"
$R --mapping "$tmp/m.json" --db "$tmp/b.db" > /dev/null || bad "run B (--mapping)"
da=$($S db digest --data "$tmp/a.db" | cut -d' ' -f1)
db=$($S db digest --data "$tmp/b.db" | cut -d' ' -f1)
[ -n "$da" ] && [ "$da" = "$db" ] &&
  ok "run --mapping FILE: the same data digest as the run that mapped it ($da)" ||
  bad "data digests differ: $da vs $db"
for f in a b; do
  $S db check "$tmp/$f.db" > "$tmp/chk" 2>&1 && grep -q "^0 violations" "$tmp/chk" &&
    ok "db check $f.db" || bad "db check $f.db: $(grep -v '^  ok' "$tmp/chk" | head -5)"
done
q() { sqlite3 "$1" "$2"; }
[ "$(q "$tmp/b.db" "SELECT json_extract(config, '\$.\"run.mapping\"') FROM runs")" = "$tmp/m.json" ] &&
  [ "$(q "$tmp/b.db" "SELECT length(json_extract(config, '\$.\"run.mapping_digest\"')) FROM runs")" = 16 ] &&
  ok "the run row's config names the mapping file and its digest" ||
  bad "run.mapping / run.mapping_digest not in the config"
# the mapping table says what the file says, group by group (the numbers
# of each group line, in order: index layer channels rows cols [halo]
# core node x y neurons sram_bytes)
grep '"index"' "$tmp/m.json" | tr -c '0-9\n' ' ' | tr -s ' ' | sed 's/^ //; s/ $//' > "$tmp/file.rows"
q "$tmp/b.db" "SELECT grp, layer, c0, c1, y0, y1, x0, x1, iy0, iy1, ix0, ix1,
  core, node, x, y, neurons, sram_bytes FROM mapping ORDER BY grp" |
  tr '|' ' ' | tr -s ' ' > "$tmp/table.rows"
[ "$(wc -l < "$tmp/file.rows")" = 4 ] && diff "$tmp/file.rows" "$tmp/table.rows" > "$tmp/d" &&
  ok "mapping table = map --out, group by group (4 groups)" ||
  bad "mapping table differs from the file: $(cat "$tmp/d")"
q "$tmp/a.db" "SELECT grp, node, x, y FROM mapping" > "$tmp/a.map"
q "$tmp/b.db" "SELECT grp, node, x, y FROM mapping" | diff "$tmp/a.map" - > /dev/null &&
  ok "run A's mapping table equals run B's" || bad "run A's mapping table differs"
# a group moved by hand: another run (the output core next to the input)
sed '/"index": 3/s/"node": 3, "x": 0, "y": 1/"node": 4, "x": 1, "y": 1/' "$tmp/m.json" > "$tmp/moved.json"
$R --mapping "$tmp/moved.json" --db "$tmp/c.db" > /dev/null || bad "run with a moved group"
[ "$(q "$tmp/c.db" "SELECT node || ',' || x || ',' || y FROM mapping WHERE grp = 3")" = "4,1,1" ] &&
  [ "$($S db digest --data "$tmp/c.db" | cut -d' ' -f1)" != "$da" ] &&
  ok "a moved group: recorded where it went, another data digest" ||
  bad "the moved group is not what was recorded"

# the CNN on cores of 256 neurons: conv layers in spatial tiles with halos
CNN="--model $srcdir/models/fmnist-cnn.json core.neurons_per_core=256"
$S map $CNN --out "$tmp/cnn256.json" --quiet || bad "map the CNN at 256"
T="$S run $CNN --data synthetic:2 --frames 3 --quiet --detail link"
$T --db "$tmp/t1.db" > /dev/null && $T --mapping "$tmp/cnn256.json" --db "$tmp/t2.db" > /dev/null &&
  [ "$($S db digest --data "$tmp/t1.db" | cut -d' ' -f1)" = "$($S db digest --data "$tmp/t2.db" | cut -d' ' -f1)" ] &&
  [ "$(q "$tmp/t2.db" "SELECT count(*) FROM mapping WHERE layer = 1 AND (y1 - y0) * (x1 - x0) < 24 * 24")" -gt 1 ] &&
  $S db check "$tmp/t2.db" > /dev/null &&
  ok "CNN in tiles at 256 neurons per core: run --mapping records what the mapper's run did" ||
  bad "CNN at 256 with --mapping"

# 4. resume compares the mapping file: unfinish run B at frame 5
cp "$tmp/m.json" "$tmp/r.json"
$R --mapping "$tmp/r.json" --db "$tmp/r.db" > /dev/null || bad "run R"
q "$tmp/r.db" "DELETE FROM frames WHERE frame >= 5; DELETE FROM cores WHERE frame >= 5;
  DELETE FROM layer_frames WHERE frame >= 5;
  DELETE FROM links WHERE frame >= 5; DELETE FROM ports WHERE frame >= 5;
  UPDATE runs SET status = 'interrupted', frames_done = 5"
cp "$tmp/moved.json" "$tmp/r.json"
expect "resume with a changed mapping file is refused" 2 "recorded with" -- \
  $R --mapping "$tmp/r.json" --db "$tmp/r.db" --resume
cp "$tmp/m.json" "$tmp/r.json"
$R --mapping "$tmp/r.json" --db "$tmp/r.db" --resume > /dev/null &&
  [ "$($S db digest --data "$tmp/r.db" | cut -d' ' -f1)" = "$da" ] &&
  ok "resume with the same file completes to the same data digest" ||
  bad "resume with the same mapping file"

# 5. hand edits that break a rule: refused, naming the group and the rule
edit() { # edit NAME SED: a copy of m.json changed by SED
  sed "$2" "$tmp/m.json" > "$tmp/$1.json"
}
M="$S map $C --quiet --mapping"
edit cap 's/"channels": \[0, 400\]/"channels": [0, 790]/; s/"channels": \[400, 800\]/"channels": [790, 800]/'
expect "a core over capacity" 2 "group 1 (layer 1, dense): over capacity: 790 neurons; core.neurons_per_core = 784" -- $M "$tmp/cap.json"
edit node '/"index": 3/s/"node": 3, "x": 0, "y": 1/"node": 2, "x": 2, "y": 0/'
expect "two groups on one node" 2 "groups 2 and 3 are both on node 2: one core per router" -- $M "$tmp/node.json"
edit miss 's/"channels": \[400, 800\]/"channels": [401, 800]/'
expect "a missing neuron" 2 "layer 1 (dense): neuron (channel 400, y 0, x 0) is not in any group" -- $M "$tmp/miss.json"
edit twice 's/"channels": \[400, 800\]/"channels": [399, 800]/'
expect "a neuron in two groups" 2 "groups 1 and 2 both hold layer 1 (dense) neuron (channel 399" -- $M "$tmp/twice.json"
edit type '/"index": 2/s/"node": 2/"node": "2"/'
expect "a bad field type" 2 "type.json: group 2: 'node': expected an integer" -- $M "$tmp/type.json"
edit range '/"index": 1/s/"channels": \[0, 400\]/"channels": [0, 400, 5]/'
expect "a range that is not two integers" 2 "group 1: 'channels': expected \[first, end)" -- $M "$tmp/range.json"
edit outside '/"index": 2/s/"channels": \[400, 800\]/"channels": [400, 801]/'
expect "a range outside the layer" 2 "group 2: 'channels' = \[400, 801): expected 0 <= first < end <= 800 (layer 1 has 800 channels)" -- $M "$tmp/outside.json"
edit xy '/"index": 3/s/"node": 3/"node": 5/'
expect "a node that is not its (x, y)" 2 "group 3: 'node' = 5, but (x, y) = (0, 1) is node 3" -- $M "$tmp/xy.json"
edit mesh '/"index": 3/s/"node": 3, "x": 0, "y": 1/"node": 6, "x": 0, "y": 2/'
expect "a node outside the mesh" 2 "group 3: 'y' = 2: expected 0..1" -- $M "$tmp/mesh.json"
edit sram '/"index": 3/s/"sram_bytes": 4004/"sram_bytes": 4000/'
expect "an SRAM figure that is not the group's" 2 "group 3: 'sram_bytes' = 4000: its synapses need 4004 bytes" -- $M "$tmp/sram.json"
edit neurons '/"index": 1/s/"neurons": 400/"neurons": 401/'
expect "a neuron count that is not the ranges'" 2 "group 1: 'neurons' = 401: its ranges hold 400" -- $M "$tmp/neurons.json"
edit halo '/"index": 1/s/"halo": {"rows": \[0, 28\]/"halo": {"rows": [0, 27]/'
expect "a halo that is not the receptive field's" 2 "group 1: 'halo' = rows \[0, 27) x cols \[0, 28): its receptive fields read rows \[0, 28)" -- $M "$tmp/halo.json"
edit index '/"index": 2/s/"index": 2/"index": 7/'
expect "groups out of index order" 2 "group 2: 'index' = 7: groups are listed in index order" -- $M "$tmp/index.json"
edit core '/"index": 2/s/"core": 2/"core": 0/'
expect "a core that is not the group's" 2 "group 2: 'core' = 0: core g holds group g" -- $M "$tmp/core.json"
edit unknown '/"index": 3/s/"x": 0,/"x": 0, "z": 1,/'
expect "an unknown key, with the valid ones" 2 "group 3: unknown key 'z' (valid keys: index, layer" -- $M "$tmp/unknown.json"
edit missing '/"index": 0/s/"node": 0, //'
expect "a missing key" 2 "group 0: missing key 'node'" -- $M "$tmp/missing.json"
edit cores 's/"cores": 4/"cores": 5/'
expect "a total that is not the groups'" 2 "'cores' = 5: the file lists 4 groups" -- $M "$tmp/cores.json"
edit version 's/"version": 1/"version": 2/'
expect "another format version" 2 "'version': expected 1" -- $M "$tmp/version.json"
head -c 300 "$tmp/m.json" > "$tmp/cut.json"
expect "a truncated file" 2 "cut.json: line 7 column" -- $M "$tmp/cut.json"
expect "a wrong model (shapes)" 2 "the file maps 3 layers; model fmnist-cnn has 6" -- \
  $S map --model "$srcdir/models/fmnist-cnn.json" --quiet --mapping "$tmp/m.json"
sed 's/"channels": 800, "height": 1/"channels": 801, "height": 1/' "$tmp/m.json" > "$tmp/shape.json"
expect "a layer of another shape" 2 "layers\[1\]: the file maps dense 801x1x1 (pool 1); model fmnist-mlp's layer 1 is dense 800x1x1" -- $M "$tmp/shape.json"
expect "cores other than the file's" 2 "'core.neurons_per_core' = 784: the mapping was made for other cores; these have core.neurons_per_core = 1024" -- \
  $S map --quiet --mapping "$tmp/m.json"
expect "a mesh other than the file's" 2 "the file maps onto a 3x2 mesh; the mesh asked for is 4x4" -- \
  $M "$tmp/m.json" --mesh 4x4
# the run reads it the same way, before any frame
expect "run --mapping refuses a broken file" 2 "groups 2 and 3 are both on node 2" -- \
  $R --mapping "$tmp/node.json"
expect "run --mapping with a map.* key" 2 "map.placement=snake': with --mapping the mapping is the file's" -- \
  $R --mapping "$tmp/m.json" map.placement=snake
expect "map --mapping with a map.* key" 2 "map.sram_fit=split': with --mapping" -- \
  $M "$tmp/m.json" map.sram_fit=split
expect "run --mapping of a missing file" 2 "nope.json: cannot open" -- \
  $R --mapping "$tmp/nope.json"
expect "map with a key it does not use" 2 "key 'energy.e_sop_pj' is not used by map, which takes core.neurons_per_core" -- \
  $S map --quiet energy.e_sop_pj=3
expect "map with a core key that does not shape a mapping" 2 "key 'core.step_ps' is not used by map" -- \
  $S map --quiet core.step_ps=5
$S map --quiet --out "$tmp/k.json" noc.width=5 noc.height=4 &&
  grep -q '"mesh": {"width": 5, "height": 4}' "$tmp/k.json" &&
  ok "map honours noc.width/noc.height" || bad "map honours noc.width/noc.height"
expect "map: --mesh and noc.width disagree" 2 "noc.width" -- \
  $S map --quiet --mesh 3x3 noc.width=4 noc.height=3
expect "map with an unknown key" 2 "unknown key 'core.neurons'" -- $S map --quiet core.neurons=3
expect "map with an unknown option" 2 "unknown or incomplete option '--bogus'" -- $S map --bogus
expect "map --out into a directory" 2 "$tmp" -- $S map $C --quiet --out "$tmp"
$S map --help > "$tmp/help" && grep -q -- "--mapping FILE" "$tmp/help" &&
  grep -q -- "--out FILE" "$tmp/help" && grep -q "^  map.placement=" "$tmp/help" &&
  grep -q "^  core.neurons_per_core=" "$tmp/help" && ! grep -q "^  energy\." "$tmp/help" &&
  ok "map --help names --mapping, --out and the keys that shape a mapping, only those" ||
  bad "map --help"
$S run --help | grep -q -- "--mapping FILE" && ok "run --help names --mapping" ||
  bad "run --help lacks --mapping"

# 6. db check catches a tampered mapping row
tamper() { # tamper NAME PATTERN SQL: a copy of a.db changed by SQL fails NAME
  cp "$tmp/a.db" "$tmp/t.db"
  sqlite3 "$tmp/t.db" "$3"
  out=$($S db check "$tmp/t.db" 2>&1); st=$?
  [ $st = 1 ] && echo "$out" | grep -q "FAIL  $2" &&
    ok "db check catches $1" || bad "db check missed $1: exit $st: $(echo "$out" | grep -v '^  ok' | head -6)"
}
tamper "a group shrunk (a neuron uncovered)" "mapping: every neuron of every layer in exactly one group" \
  "UPDATE mapping SET c1 = 399, neurons = 399 WHERE grp = 1"
# sizes that still add up to the layer's: channel 0 in no group, 400 in two
tamper "groups overlapping" "mapping: every neuron of every layer in exactly one group" \
  "UPDATE mapping SET c0 = 1, c1 = 401 WHERE grp = 1"
tamper "a neuron count off its ranges" "mapping: ranges inside the layer's shape" \
  "UPDATE mapping SET neurons = 401 WHERE grp = 1"
tamper "a node outside the mesh" "mapping: nodes inside the recorded mesh" \
  "UPDATE mapping SET node = 6, x = 0, y = 2 WHERE grp = 3"
tamper "an (x, y) that is not the node's" "mapping: nodes inside the recorded mesh" \
  "UPDATE mapping SET x = 2 WHERE grp = 3"
tamper "two groups on one node" "mapping: nodes inside the recorded mesh" \
  "UPDATE mapping SET node = 2, x = 2, y = 0 WHERE grp = 3"
tamper "a group row gone" "cores rows: one per group" "DELETE FROM mapping WHERE grp = 3"
tamper "a core that is not its group" "mapping: groups numbered 0..n-1" \
  "UPDATE mapping SET core = 7 WHERE grp = 2"
tamper "a group over the cores' capacity" "mapping: groups within core.neurons_per_core" \
  "UPDATE mapping SET sram_bytes = 2000000 WHERE grp = 1"
tamper "a cores row off its group's node" "cores rows: one per group each frame" \
  "UPDATE cores SET node = 5 WHERE core = 3 AND frame = 0"

exit $fail
