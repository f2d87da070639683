#!/bin/sh
# `spikemesh sweep` end to end with the built program and the shipped
# model: a 2x2 grid fills four complete runs and prints the summary, the
# Pareto front and the time line; the same command again skips them all;
# Ctrl-C stops after the current frames and the same command finishes the
# sweep to the digests of an uninterrupted one; bad grid files exit 2 with
# the file, the key and what was expected.
# Needs the sqlite3 shell and the Fashion-MNIST test set (skipped without).
set -u
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

cat > "$tmp/g.json" <<'G'
{"frames": 30, "base": {"core.steps_per_window": 10},
 "grid": {"noc.buffer_depth": [1, 8], "mesh": ["2x2", "3x3"]}}
G
# 1. four points, two at a time, into g.db (the default database name)
out=$(./spikemesh sweep "$tmp/g.json" --jobs 2 2>&1); st=$?
[ $st = 0 ] && ok "2x2 sweep exits 0" || bad "2x2 sweep: exit $st: $out"
[ "$(q "$tmp/g.db" "SELECT count(*) FROM runs WHERE kind='sweep' AND status='complete' AND frames_done=30")" = 4 ] &&
  ok "four complete runs in g.db" || bad "runs: $(q "$tmp/g.db" "SELECT run_id, status, frames_done FROM runs")"
echo "$out" | grep -q "4 points run, 0 skipped" && ok "four points run" || bad "no '4 points run': $out"
echo "$out" | grep -q "^time: sum of point times .* wall .* wall/sum" &&
  ok "sum of point times, wall and ratio printed" || bad "no time line: $out"
echo "$out" | grep -q "Pareto-optimal points (energy, latency, accuracy): [1-4] of 4" &&
  ok "Pareto front printed" || bad "no Pareto front: $out"
echo "$out" | grep -q "acc %.*E uJ.*SOP uJ.*hop uJ.*stat uJ.*lat us.*hops.*late.*util" &&
  ok "summary columns" || bad "summary header: $out"
# 2. the same command again: everything is complete
out=$(./spikemesh sweep "$tmp/g.json" --jobs 2 2>&1); st=$?
[ $st = 0 ] && echo "$out" | grep -q "0 points run, 4 skipped" &&
  [ "$(q "$tmp/g.db" "SELECT count(*) FROM runs")" = 4 ] &&
  ok "a re-run skips all four points" || bad "re-run: exit $st: $out"
# 3. one job gives the same digests
./spikemesh sweep "$tmp/g.json" --jobs 1 --db "$tmp/one.db" --quiet >/dev/null ||
  bad "sweep with one job"
same=1
for k in $(q "$tmp/g.db" "SELECT run_id FROM runs ORDER BY run_id"); do
  key=$(q "$tmp/g.db" "SELECT point_key FROM runs WHERE run_id=$k")
  k1=$(sqlite3 "$tmp/one.db" "SELECT run_id FROM runs WHERE point_key='$key'")
  a=$(./spikemesh db digest "$tmp/g.db:$k" | cut -d' ' -f1)
  b=$(./spikemesh db digest "$tmp/one.db:$k1" | cut -d' ' -f1)
  [ -n "$a" ] && [ "$a" = "$b" ] || { same=0; echo "  run $k: '$a' vs '$b'"; }
done
[ $same = 1 ] && ok "same digests with --jobs 1 and --jobs 2" || bad "digests differ between job counts"

# 4. Ctrl-C stops after the current frames; the same command finishes
cat > "$tmp/c.json" <<'G'
{"frames": 1000, "grid": {"noc.buffer_depth": [1, 2]}}
G
./spikemesh sweep "$tmp/c.json" --jobs 2 --detail summary > "$tmp/c.out" 2>&1 &
pid=$!
# Ctrl-C once a point has recorded frames (a loaded machine may take a
# while to start the points)
i=0
while [ $i -lt 400 ]; do
  done_=$(sqlite3 "$tmp/c.db" "SELECT coalesce(max(frames_done), 0) FROM runs" 2>/dev/null || echo 0)
  [ "${done_:-0}" -ge 20 ] 2>/dev/null && break
  sleep 0.05; i=$((i + 1))
done
kill -INT $pid
wait $pid; st=$?
if [ $st = 0 ]; then
  echo "note: the sweep ended before Ctrl-C; interruption not exercised"
else
  [ $st = 1 ] && grep -q "interrupted" "$tmp/c.out" &&
    [ "$(q "$tmp/c.db" "SELECT count(*) FROM runs WHERE status='interrupted'")" -ge 1 ] &&
    ok "Ctrl-C: exit 1, runs recorded as interrupted" || bad "Ctrl-C: exit $st: $(cat "$tmp/c.out")"
  # resuming at another detail would leave frames with and without rows
  before=$(q "$tmp/c.db" "SELECT group_concat(status || frames_done) FROM runs")
  out=$(./spikemesh sweep "$tmp/c.json" --jobs 2 --detail link --quiet 2>&1); st2=$?
  [ $st2 = 2 ] && echo "$out" | grep -q "another --detail" &&
    [ "$(q "$tmp/c.db" "SELECT group_concat(status || frames_done) FROM runs")" = "$before" ] &&
    ok "resuming the sweep at another --detail is refused, runs untouched" ||
    bad "sweep resume at another detail: exit $st2: $out"
  ./spikemesh sweep "$tmp/c.json" --jobs 2 --detail summary --quiet > "$tmp/c2.out" 2>&1 &&
    [ "$(q "$tmp/c.db" "SELECT count(*) FROM runs WHERE status='complete' AND frames_done=1000")" = 2 ] &&
    [ "$(q "$tmp/c.db" "SELECT count(*) FROM runs")" = 2 ] &&
    ok "the same command finishes the interrupted sweep" || bad "resume: $(cat "$tmp/c2.out")"
  ./spikemesh sweep "$tmp/c.json" --jobs 2 --detail summary --db "$tmp/c-ref.db" --quiet >/dev/null
  same=1
  for k in 1 2; do
    key=$(q "$tmp/c.db" "SELECT point_key FROM runs WHERE run_id=$k")
    k1=$(q "$tmp/c-ref.db" "SELECT run_id FROM runs WHERE point_key='$key'")
    a=$(./spikemesh db digest "$tmp/c.db:$k" | cut -d' ' -f1)
    b=$(./spikemesh db digest "$tmp/c-ref.db:$k1" | cut -d' ' -f1)
    [ -n "$a" ] && [ "$a" = "$b" ] || same=0
  done
  [ $same = 1 ] && ok "resumed points have the digests of uninterrupted ones" || bad "resumed digests differ"
fi

# 5. bad grid files: exit 2, the file, the key, what was expected
badgrid() { # description json pattern...
  d=$1 j=$2; shift 2
  printf '%s\n' "$j" > "$tmp/bad.json"
  out=$(./spikemesh sweep "$tmp/bad.json" --quiet 2>&1); st=$?
  okk=1
  [ $st = 2 ] || okk=0
  for p in "$@"; do echo "$out" | grep -qF -- "$p" || okk=0; done
  [ $okk = 1 ] && ok "bad grid: $d" || bad "bad grid: $d: exit $st: $out"
}
badgrid "unknown key" '{"grid": {"noc.bufer_depth": [2, 4]}}' "bad.json" "unknown key 'noc.bufer_depth'" "valid keys"
badgrid "empty axis" '{"grid": {"noc.buffer_depth": []}}' "bad.json" "'noc.buffer_depth'" "expected at least one value"
badgrid "wrong type" '{"grid": {"noc.multicast": [1]}}' "bad.json" "'noc.multicast'" "expected"
badgrid "axis not a list" '{"grid": {"mesh": "2x2"}}' "bad.json" "'mesh'" "expected a list"
badgrid "mesh too small" '{"grid": {"mesh": ["1x2"]}}' "bad.json: point 1 (run.mesh=1x2)" "short by"
badgrid "no grid" '{"frames": 3}' "bad.json" "no \"grid\""
[ ! -e "$tmp/bad.db" ] || [ "$(q "$tmp/bad.db" "SELECT count(*) FROM runs")" = 0 ] &&
  ok "bad grids record nothing" || bad "bad grids left runs behind"
out=$(./spikemesh sweep "$tmp/none.json" 2>&1); st=$?
[ $st != 0 ] && echo "$out" | grep -q "none.json" && ok "missing grid file named" || bad "missing grid file: exit $st: $out"
out=$(./spikemesh sweep "$tmp/g.json" --jobs 0 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q -- "--jobs" && ok "--jobs 0 refused" || bad "--jobs 0: exit $st: $out"
# every database this test recorded passes the audit (spikemesh db check)
for f in "$tmp"/*.db; do
  case $(basename "$f") in none.db) continue ;; esac
  [ -f "$f" ] || continue
  ./spikemesh db check "$f" > "$tmp/audit.out" 2>&1 ||
    bad "db check $(basename "$f"): $(grep -v '^  ok' "$tmp/audit.out" | head -5)"
done
exit $fail
