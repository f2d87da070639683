#!/bin/sh
# Faults a long unattended run meets: an unwritable or full database path,
# a database locked by another process, a missing data set, a network
# configuration that saturates everything, sizes that would exhaust memory.
# Each must give a clear message and leave what was recorded intact.
set -u
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -d /usr/share/datasets/fashion-mnist ] || { echo "Fashion-MNIST not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 shell not installed"; exit 77; }

expect() { # expect DESC STATUS PATTERN -- cmd...
  d=$1 want=$2 pat=$3; shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
  if [ "$got" = "$want" ] && grep -q -- "$pat" "$tmp/err"; then ok "$d"
  else bad "$d: exit $got (want $want)"; cat "$tmp/err" | head -3; fi
}

# A first run recorded: everything below must leave it intact.
./spikemesh run --frames 5 --db "$tmp/r.db" --quiet >/dev/null 2>&1 || bad "first run"
frames() { sqlite3 "$tmp/r.db" "SELECT count(*) FROM frames WHERE run_id=1"; }
[ "$(frames)" = 5 ] && ok "first run recorded 5 frames" || bad "first run frames"

# a device is no database: refused before SQLite creates files beside it
devs=$(ls -l /dev/full*)
expect "database on a device" 2 "not a regular file" -- ./spikemesh run --frames 2 --db /dev/full --quiet
[ "$(ls -l /dev/full*)" = "$devs" ] && [ -c /dev/full ] &&
  ok "nothing created beside the device" || bad "files beside /dev/full: $(ls -l /dev/full*)"
expect "database under a file, not a directory" 1 "cannot open database" -- ./spikemesh run --frames 2 --db /etc/passwd/x.db --quiet
expect "missing data set" 2 "cannot open" -- ./spikemesh run --frames 2 --data "$tmp/no-such-dir" --quiet

# Another process holds the database's write lock for longer than the
# recorder waits (ten minutes; here SPIKEMESH_DB_TIMEOUT=1 second).
(echo "BEGIN EXCLUSIVE;"; sleep 5; echo "COMMIT;") | sqlite3 "$tmp/r.db" &
holder=$!
sleep 1
export SPIKEMESH_DB_TIMEOUT=1
expect "database locked by another process" 1 "locked for more than 1 s" -- ./spikemesh run --frames 2 --db "$tmp/r.db" --quiet
unset SPIKEMESH_DB_TIMEOUT
wait $holder
[ "$(frames)" = 5 ] && ok "locked: the earlier run is intact" || bad "locked: earlier run changed"
[ "$(sqlite3 "$tmp/r.db" 'PRAGMA integrity_check')" = ok ] && ok "integrity after the lock" || bad "integrity"

# A network that saturates everything: depth-1 buffers, 2 us links,
# unicast.  It must finish (no deadlock), with the damage counted.
./spikemesh run --frames 3 noc.buffer_depth=1 noc.t_link=2000000 noc.multicast=unicast \
  --db "$tmp/sat.db" --detail link >"$tmp/out" 2>&1
st=$?
[ $st = 0 ] && grep -q "arrival timing changed a spike time" "$tmp/out" && ok "saturated network finishes, late spikes reported" ||
  bad "saturated: exit $st"
late=$(sqlite3 "$tmp/sat.db" "SELECT sum(late_spikes) FROM frames")
[ "${late:-0}" -gt 0 ] && ok "saturated: $late late spikes recorded" || bad "saturated: no late spikes recorded"

# SIGKILL in the middle of a sweep: the database opens, holds only whole
# frames, and the same command completes every point.
printf '{"frames": 2000, "grid": {"noc.buffer_depth": [1, 2]}}\n' > "$tmp/k.json"
./spikemesh sweep "$tmp/k.json" --jobs 2 --detail layer --quiet >/dev/null 2>&1 &
pid=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
  sleep 0.3
  n=$(sqlite3 "$tmp/k.db" "SELECT coalesce(sum(frames_done), 0) FROM runs" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 200 ] && break
done
kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
[ "$(sqlite3 "$tmp/k.db" 'PRAGMA integrity_check')" = ok ] && ok "killed sweep: integrity ok" || bad "killed sweep: integrity"
[ "$(sqlite3 "$tmp/k.db" "SELECT count(*) FROM runs r WHERE frames_done != (SELECT count(*) FROM frames f WHERE f.run_id = r.run_id)")" = 0 ] &&
  [ "$(sqlite3 "$tmp/k.db" "SELECT count(*) FROM layer_frames l JOIN runs r USING(run_id) WHERE l.frame >= r.frames_done")" = 0 ] &&
  ok "killed sweep: only whole frames" || bad "killed sweep: partial frames"
./spikemesh sweep "$tmp/k.json" --jobs 2 --detail layer --quiet >/dev/null 2>&1 &&
  [ "$(sqlite3 "$tmp/k.db" "SELECT count(*) FROM runs WHERE status='complete' AND frames_done=2000")" = 2 ] &&
  [ "$(sqlite3 "$tmp/k.db" "SELECT count(*) FROM frames")" = 4000 ] &&
  ok "killed sweep: the same command completes both points" || bad "killed sweep: rerun"

# Sizes that would exhaust memory are refused before allocating.
expect "a 1000x1000 mesh" 2 "noc.width" -- ./spikemesh noc noc.width=1000 noc.height=1000
expect "a 1000x1000 mesh for a run" 2 "mesh" -- ./spikemesh run --frames 1 --mesh 1000x1000 --quiet
printf 'SMTRACE\0\001\0\001\0\002\0\0\0\0\0\0\0\0\001\0\0\0\0\0\0\0\0\0\0{}' > "$tmp/huge.smt"
expect "a trace claiming 2^40 records" 2 "claims" -- ./spikemesh trace info "$tmp/huge.smt"
# every database this test recorded passes the audit (spikemesh db check)
for f in "$tmp"/*.db; do
  case $(basename "$f") in none.db) continue ;; esac
  [ -f "$f" ] || continue
  ./spikemesh db check "$f" > "$tmp/audit.out" 2>&1 ||
    bad "db check $(basename "$f"): $(grep -v '^  ok' "$tmp/audit.out" | head -5)"
done
exit $fail
