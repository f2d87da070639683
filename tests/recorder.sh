#!/bin/sh
# Recording end to end with the built program: a run recorded at packet
# detail replays through the same architecture to identical hops, link
# flits and port blocked time; a run killed with SIGKILL leaves a database
# that passes integrity_check, holds whole frames only and resumes to the
# digest of an uninterrupted run; Ctrl-C (TERM, HUP) stops after a frame
# and resumes the same way; same seed, same digest; trace files and their
# errors; another program's database is refused unchanged.
# Needs the sqlite3 shell and the Fashion-MNIST test set (skipped without).
set -u
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
data=/usr/share/datasets/fashion-mnist
[ -e "$data/train-labels-idx1-ubyte.gz" ] || [ -e "$data/train-labels-idx1-ubyte" ] ||
  { echo "skip: no $data"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
q() { sqlite3 "$1" "$2"; }

# a small model: 784-32-10, one short epoch
./spikemesh train train.arch=784-32-10 train.ann_epochs=1 train.epochs=0 \
  train.qat_epochs=0 train.out="$tmp/m.json" >/dev/null 2>&1 ||
  { echo "FAIL: training the test model"; exit 1; }
# six cores on a 3x3 mesh, slow links: packets block each other
O="core.sram_bytes=4000 map.sram_fit=split noc.t_link=3000 noc.multicast=unicast"
R="./spikemesh run --model $tmp/m.json --quiet"
# a packet trace has no mapping: its replay takes the network's keys only
ON="noc.t_link=3000 noc.multicast=unicast"

# 1. record at packet detail, replay through the same architecture
$R --frames 40 --db "$tmp/p.db" --detail packet $O >/dev/null || bad "run at packet detail"
./spikemesh replay --from-db "$tmp/p.db" --db "$tmp/r.db" --detail link $O >/dev/null ||
  bad "replay from the database"
# the audit passes on both, and catches each kind of tampering
for f in p r; do
  out=$(./spikemesh db check "$tmp/$f.db" 2>&1); st=$?
  [ $st = 0 ] && echo "$out" | grep -q "^0 violations in 1 run" &&
    ok "db check $f.db: 0 violations" || bad "db check $f.db: exit $st: $(echo "$out" | grep -v '^  ok' | head -8)"
done
tamper() { # tamper NAME PATTERN SQL: a copy of p.db changed by SQL fails NAME
  cp "$tmp/p.db" "$tmp/t.db"
  sqlite3 "$tmp/t.db" "$3"
  out=$(./spikemesh db check "$tmp/t.db" 2>&1); st=$?
  [ $st = 1 ] && echo "$out" | grep -q "FAIL  $2" &&
    ok "db check catches $1" || bad "db check missed $1: exit $st: $(echo "$out" | grep -v '^  ok' | head -6)"
}
tamper "a frame's hop energy" "Eq. 12: E_Hop" "UPDATE frames SET e_hop_pj = e_hop_pj + 100 WHERE frame = 3"
tamper "a total that is not the sum" "Eq. 12: E_total" "UPDATE frames SET e_total_pj = e_total_pj * 1.01 WHERE frame = 7"
tamper "static energy off the preset" "Eq. 12: E_static" "UPDATE frames SET e_static_pj = 0, e_total_pj = e_sop_pj + e_hop_pj WHERE frame = 1"
tamper "a layer row gone" "layers' spikes" "DELETE FROM layer_frames WHERE frame = 2 AND layer = 1"
tamper "a frame gone" "run row: frames_done" "DELETE FROM frames WHERE frame = 5"
tamper "a missing mesh size" "run row: no mesh size" "UPDATE runs SET mesh_width = NULL"
tamper "a link's flits" "links: flits" "UPDATE links SET flits = flits + 1 WHERE frame = 4 AND dir != 4 AND node = (SELECT min(node) FROM links WHERE frame = 4 AND dir != 4)"
tamper "a spike row gone" "spike rows" "DELETE FROM spikes WHERE rowid = (SELECT min(rowid) FROM spikes)"
tamper "a packet row's hops" "packet rows" "UPDATE packets SET hops = 0"
tamper "a core's SOPs" "cores' SOPs" "UPDATE cores SET sops = sops + 1 WHERE frame = 0 AND core = 1"
tamper "a label out of range" "labels and predictions" "UPDATE frames SET label = 12 WHERE frame = 0"
tamper "a frame outside the run" "frames numbered" "UPDATE frames SET frame = 99 WHERE frame = 39"
# the model file changed since the run
cp "$tmp/m.json" "$tmp/m.json.keep"
sed 's/"name": *"[^"]*"/"name": "edited"/' "$tmp/m.json.keep" > "$tmp/m.json"
out=$(./spikemesh db check "$tmp/p.db" 2>&1); st=$?
[ $st = 1 ] && echo "$out" | grep -q "FAIL  model file .*changed since the run" &&
  ok "db check sees a model file changed since the run" || bad "db check, model changed: exit $st: $out"
cp "$tmp/m.json.keep" "$tmp/m.json"
out=$(./spikemesh db check "$tmp/p.db:7" 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "no run 7" && ok "db check of a run not there: exit 2" ||
  bad "db check p.db:7: exit $st: $out"
out=$(./spikemesh db check "$tmp/nope.db" 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "nope.db" && [ ! -e "$tmp/nope.db" ] &&
  ok "db check of a missing file: exit 2, nothing created" || bad "db check nope.db: exit $st: $out"

cmp_sql() { # name SQL: same result in both databases
  a=$(q "$tmp/p.db" "$2"); b=$(q "$tmp/r.db" "$2")
  if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "replay: $1 identical"; else
    bad "replay: $1 differ: run '$(echo "$a" | head -3)' replay '$(echo "$b" | head -3)'"; fi
}
cmp_sql "hops" "SELECT sum(hops) FROM frames"
cmp_sql "per-link flits" "SELECT node, dir, sum(flits) FROM links GROUP BY 1, 2 ORDER BY 1, 2"
cmp_sql "per-router blocked time" "SELECT node, port, sum(blocked_ps) FROM ports GROUP BY 1, 2 ORDER BY 1, 2"
[ "$(q "$tmp/p.db" "SELECT sum(blocked_ps) > 0 FROM ports")" = 1 ] &&
  ok "the replay test has contention" || bad "no blocked time: the replay test is too easy"
# the same through an exported packet trace (binary and CSV)
./spikemesh trace export --db "$tmp/p.db" --kind packet -o "$tmp/p.smt" >/dev/null &&
  ./spikemesh trace convert "$tmp/p.smt" "$tmp/p.csv" --csv >/dev/null &&
  ./spikemesh replay --trace "$tmp/p.csv" --db "$tmp/r2.db" $ON >/dev/null &&
  [ "$(q "$tmp/r2.db" "SELECT sum(hops) FROM frames")" = "$(q "$tmp/p.db" "SELECT sum(hops) FROM frames")" ] &&
  [ "$(q "$tmp/r2.db" "SELECT sum(blocked_ps) FROM ports")" = "$(q "$tmp/p.db" "SELECT sum(blocked_ps) FROM ports")" ] &&
  ok "packet trace (CSV) replays to the same hops and blocked time" || bad "packet trace replay"
# a bad CSV row names its line
sed '5s/^[0-9]*,/x,/' "$tmp/p.csv" > "$tmp/bad.csv"
out=$(./spikemesh replay --trace "$tmp/bad.csv" $ON 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "bad.csv:5: field 'frame'" && ok "bad CSV row: line and field" ||
  bad "bad CSV row: exit $st: $out"
head -c 100 "$tmp/p.smt" > "$tmp/trunc.smt"
out=$(./spikemesh trace info "$tmp/trunc.smt" 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "byte offset" && ok "truncated trace: byte offset" ||
  bad "truncated trace: exit $st: $out"

# 2. same seed, same database contents
$R --frames 30 --db "$tmp/s1.db" --detail spike $O >/dev/null
$R --frames 30 --db "$tmp/s2.db" --detail spike $O >/dev/null
d1=$(./spikemesh db digest "$tmp/s1.db" | cut -d' ' -f1)
d2=$(./spikemesh db digest "$tmp/s2.db" | cut -d' ' -f1)
[ -n "$d1" ] && [ "$d1" = "$d2" ] && ok "same seed, same digest ($d1)" || bad "digests differ: $d1 $d2"

# 3. SIGKILL mid-way, then --resume: the digest of an uninterrupted run
N=1500
$R --frames $N --db "$tmp/full.db" --detail link $O >/dev/null || bad "uninterrupted run"
$R --frames $N --db "$tmp/k.db" --detail link $O >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 400 ]; do
  done_=$(sqlite3 "$tmp/k.db" "SELECT frames_done FROM runs" 2>/dev/null || echo 0)
  [ "${done_:-0}" -ge 50 ] 2>/dev/null && break
  sleep 0.05; i=$((i + 1))
done
kill -KILL $pid; wait $pid 2>/dev/null
[ "$(q "$tmp/k.db" "PRAGMA integrity_check")" = ok ] && ok "killed: integrity_check ok" || bad "killed: integrity_check"
fd=$(q "$tmp/k.db" "SELECT frames_done FROM runs")
nf=$(q "$tmp/k.db" "SELECT count(*) FROM frames")
nl=$(q "$tmp/k.db" "SELECT count(*) FROM frames f WHERE NOT EXISTS (SELECT 1 FROM cores c WHERE c.frame = f.frame)")
[ "$fd" -ge 50 ] && [ "$fd" -lt $N ] && [ "$fd" = "$nf" ] && [ "$nl" = 0 ] &&
  [ "$(q "$tmp/k.db" "SELECT count(*) FROM links WHERE frame >= $fd")" = 0 ] &&
  ok "killed at frame $fd: whole frames only" || bad "killed: frames_done $fd, frames $nf, frames without cores $nl"
# a resume must be the same run: another --detail, or the model file
# changed in place, is refused and leaves the database as it was
before=$(./spikemesh db digest "$tmp/k.db" | cut -d' ' -f1)
out=$($R --frames $N --db "$tmp/k.db" --detail spike --resume $O 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "another --detail" &&
  ok "resume with another --detail is refused" || bad "resume with another detail: exit $st: $out"
cp "$tmp/m.json" "$tmp/m.json.orig"
sed 's/"name": *"[^"]*"/"name": "changed in place"/' "$tmp/m.json.orig" > "$tmp/m.json"
cmp -s "$tmp/m.json" "$tmp/m.json.orig" && bad "the model file did not change"
out=$($R --frames $N --db "$tmp/k.db" --detail link --resume $O 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "model file of other contents" &&
  ok "resume after the model file changed is refused" || bad "resume with a changed model: exit $st: $out"
cp "$tmp/m.json.orig" "$tmp/m.json"
[ "$(./spikemesh db digest "$tmp/k.db" | cut -d' ' -f1)" = "$before" ] &&
  [ "$(q "$tmp/k.db" "SELECT count(*) FROM runs")" = 1 ] &&
  ok "refused resumes left the database unchanged" || bad "a refused resume changed the database"
$R --frames $N --db "$tmp/k.db" --detail link --resume $O >/dev/null || bad "resume"
dk=$(./spikemesh db digest "$tmp/k.db" | cut -d' ' -f1)
df=$(./spikemesh db digest "$tmp/full.db" | cut -d' ' -f1)
[ "$dk" = "$df" ] && ok "resumed run has the uninterrupted run's digest" || bad "resume: digest $dk, uninterrupted $df"
out=$(./spikemesh db compare "$tmp/full.db" "$tmp/k.db")
echo "$out" | grep -q "^0 frames differ" && ok "db compare: no frame differs" || bad "db compare: $out"
out=$($R --frames $N --db "$tmp/k.db" --resume $O 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "no unfinished run" && ok "nothing to resume is refused" || bad "resume of a complete run: $st $out"

# 4. Ctrl-C stops after the current frame; --resume completes it
$R --frames $N --db "$tmp/c.db" --detail link $O >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 400 ]; do
  done_=$(sqlite3 "$tmp/c.db" "SELECT frames_done FROM runs" 2>/dev/null || echo 0)
  [ "${done_:-0}" -ge 20 ] 2>/dev/null && break
  sleep 0.05; i=$((i + 1))
done
kill -INT $pid; wait $pid; st=$?
[ $st = 1 ] && [ "$(q "$tmp/c.db" "SELECT status FROM runs")" = interrupted ] &&
  ok "Ctrl-C: exit 1, run 'interrupted'" || bad "Ctrl-C: exit $st, status $(q "$tmp/c.db" "SELECT status FROM runs")"
$R --frames $N --db "$tmp/c.db" --detail link --resume $O >/dev/null
[ "$(./spikemesh db digest "$tmp/c.db" | cut -d' ' -f1)" = "$df" ] &&
  ok "interrupted and resumed: same digest" || bad "interrupted and resumed: digest differs"

# 4b. TERM and HUP stop the same way, and so does Ctrl-C without --db:
# the frames done are summarized, exit 1
for sig in TERM HUP; do
  rm -f "$tmp/s.db"*
  $R --frames $N --db "$tmp/s.db" --detail link $O > "$tmp/s.out" 2>&1 &
  pid=$!
  i=0
  while [ $i -lt 400 ]; do
    done_=$(sqlite3 "$tmp/s.db" "SELECT frames_done FROM runs" 2>/dev/null || echo 0)
    [ "${done_:-0}" -ge 20 ] 2>/dev/null && break
    sleep 0.05; i=$((i + 1))
  done
  kill -$sig $pid; wait $pid; st=$?
  [ $st = 1 ] && [ "$(q "$tmp/s.db" "SELECT status FROM runs")" = interrupted ] &&
    grep -q "interrupted after" "$tmp/s.out" &&
    ok "SIG$sig: exit 1, run 'interrupted'" || bad "SIG$sig: exit $st, status $(q "$tmp/s.db" "SELECT status FROM runs"): $(cat "$tmp/s.out")"
  $R --frames $N --db "$tmp/s.db" --detail link --resume $O >/dev/null
  [ "$(./spikemesh db digest "$tmp/s.db" | cut -d' ' -f1)" = "$df" ] &&
    ok "SIG$sig and resumed: same digest" || bad "SIG$sig and resumed: digest differs"
done
$R --frames 100000 $O > "$tmp/n.out" 2>&1 &
pid=$!
sleep 1
kill -INT $pid; wait $pid; st=$?
n=$(sed -n 's/^accuracy: .*(\([0-9]*\)\/\([0-9]*\)).*/\2/p' "$tmp/n.out")
[ $st = 1 ] && grep -q "interrupted after $n of" "$tmp/n.out" && [ "${n:-0}" -ge 1 ] &&
  ok "Ctrl-C without --db: exit 1, the $n frames done summarized" || bad "Ctrl-C without --db: exit $st: $(tail -3 "$tmp/n.out")"

# 4c. a database that is not spikemesh's is refused by name, unchanged
sqlite3 "$tmp/other.db" "CREATE TABLE runs(x); INSERT INTO runs VALUES (1);"
sum0=$(cksum < "$tmp/other.db")
out=$(./spikemesh replay --from-db "$tmp/other.db" 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "$tmp/other.db: not a spikemesh database" &&
  [ "$(cksum < "$tmp/other.db")" = "$sum0" ] &&
  ok "replay --from-db of another program's database: refused, unchanged" || bad "replay --from-db other.db: exit $st: $out"
out=$(./spikemesh trace export --db "$tmp/other.db" -o "$tmp/o.trace" 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "not a spikemesh database" && [ ! -e "$tmp/o.trace" ] &&
  ok "trace export of another program's database: refused" || bad "trace export other.db: exit $st: $out"

# 4d. a trace whose records are out of time order within a frame replays
# every record (in time order), as the sorted trace does
./spikemesh trace export --db "$tmp/p.db" --kind packet --csv -o "$tmp/pk.csv" >/dev/null ||
  bad "packet trace export"
awk -F, '/^#|^frame/ {print; next}
  {a[$1] = a[$1] $0 "\n"; if (!($1 in seen)) {seen[$1] = 1; order[n++] = $1}}
  END {for (i = 0; i < n; i++) {k = split(a[order[i]], L, "\n");
       for (j = k - 1; j >= 1; j--) print L[j]}}' "$tmp/pk.csv" > "$tmp/rev.csv"
./spikemesh replay --trace "$tmp/pk.csv" $ON > "$tmp/s1.out" 2>&1 || bad "replay of the sorted trace"
./spikemesh replay --trace "$tmp/rev.csv" $ON > "$tmp/s2.out" 2>&1 || bad "replay of the reversed trace"
d1=$(sed -n 's/^frames .*deliveries \([0-9]*\), hops \([0-9]*\).*/\1 \2/p' "$tmp/s1.out")
d2=$(sed -n 's/^frames .*deliveries \([0-9]*\), hops \([0-9]*\).*/\1 \2/p' "$tmp/s2.out")
[ -n "$d1" ] && [ "$d1" = "$d2" ] && grep -q "out of time order within their frame" "$tmp/s2.out" &&
  ok "a trace out of time order replays every record ($d1 deliveries and hops), and says so" ||
  bad "out-of-order trace: '$d1' vs '$d2': $(cat "$tmp/s2.out")"

# 5. noc sweeps record into the same schema
./spikemesh noc --db "$tmp/n.db" traffic.rates=0.05,0.1 noc.width=3 noc.height=3 >/dev/null &&
  [ "$(q "$tmp/n.db" "SELECT count(*) FROM noc_points")" = 2 ] &&
  ./spikemesh db info "$tmp/n.db" | grep -q "noc .*complete" &&
  ok "noc sweep recorded" || bad "noc sweep"
# every database this test recorded passes the audit
# a packet trace replayed at link detail: no layers to add up, and db check
# (the loop below) passes on it
./spikemesh replay --trace "$tmp/p.smt" --db "$tmp/plink.db" --detail link \
  >/dev/null 2>&1 && [ -f "$tmp/plink.db" ] || bad "replay of a packet trace at --detail link"
for f in "$tmp"/full.db "$tmp"/k.db "$tmp"/c.db "$tmp"/s1.db "$tmp"/n.db "$tmp"/plink.db; do
  [ -f "$f" ] || continue
  ./spikemesh db check "$f" > "$tmp/chk.out" 2>&1 ||
    bad "db check $(basename "$f"): $(grep -v '^  ok' "$tmp/chk.out" | head -5)"
done
exit $fail
