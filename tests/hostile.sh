#!/bin/sh
# Hostile inputs and shared files, as a tester running as root tries them:
#  1. outputs that are symbolic links, FIFOs, devices or /dev/stdout are
#     written through, never replaced; a failed write leaves the target as
#     it was and no temporary beside it;
#  2. two processes on one run or one sweep: the run belongs to the first,
#     the second is refused naming the holder; a claim whose process is
#     gone is taken over;
#  3. a database of another program is refused before anything is written;
#  4. a briefly locked database is waited for, --db "" is refused, a
#     corrupt database is reported by db info and db digest, and
#     db digest --data ignores what does not change the results.
# Synthetic inputs only (no data set needed); needs the sqlite3 shell.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
q() { sqlite3 "$1" "$2"; }
sum() { cksum < "$1"; }
R="./spikemesh run --data synthetic:1 --quiet"

# ---- 1. outputs that are not plain files ---------------------------------
$R --frames 2 --db "$tmp/r.db" --detail spike >/dev/null 2>&1 || bad "recording a run"
mkdir "$tmp/o"
echo old > "$tmp/o/real.smt"
ln -s real.smt "$tmp/o/link.smt"
out=$(./spikemesh trace export --db "$tmp/r.db" -o "$tmp/o/link.smt" 2>&1)
[ -L "$tmp/o/link.smt" ] && ./spikemesh trace info "$tmp/o/real.smt" >/dev/null 2>&1 &&
  ok "trace export -o a symbolic link writes its target, the link stays" ||
  bad "export through a link: $out; $(ls -l "$tmp/o")"
./spikemesh trace export --db "$tmp/r.db" -o "$tmp/s.smt" >/dev/null 2>&1 || bad "export"

mkfifo "$tmp/o/fifo"
timeout 20 cat "$tmp/o/fifo" > "$tmp/from-fifo" &
reader=$!
out=$(./spikemesh trace convert "$tmp/s.smt" "$tmp/o/fifo" --csv 2>&1); st=$?
wait $reader
[ $st = 0 ] && [ -p "$tmp/o/fifo" ] && grep -q '^frame,layer,neuron' "$tmp/from-fifo" &&
  ok "trace convert into a FIFO writes through it, the FIFO stays" ||
  bad "convert into a FIFO: exit $st: $out; $(ls -l "$tmp/o")"

./spikemesh trace convert "$tmp/s.smt" /dev/null >/dev/null 2>&1 && [ -c /dev/null ] &&
  [ ! -e /dev/null.tmp ] && ok "trace convert to /dev/null: the device stays" ||
  bad "convert to /dev/null: $(ls -l /dev/null /dev/null.tmp 2>&1)"
./spikemesh trace convert "$tmp/s.smt" /dev/stdout --csv 2>/dev/null | grep -q '^frame,layer,neuron' &&
  ok "trace convert to /dev/stdout (a pipe)" || bad "convert to /dev/stdout"
if [ "$(id -u)" = 0 ] && mknod "$tmp/o/null" c 1 3 2>/dev/null; then
  ./spikemesh trace convert "$tmp/s.smt" "$tmp/o/null" >/dev/null 2>&1 && [ -c "$tmp/o/null" ] &&
    ok "as root, a device node stays a device node" || bad "device node: $(ls -l "$tmp/o/null")"
fi

echo keep > "$tmp/o/model.json"
ln -s model.json "$tmp/o/mlink.json"
./spikemesh synth --arch vgg11 --width-div 16 --calib 1 --out "$tmp/o/mlink.json" >/dev/null 2>&1 &&
  [ -L "$tmp/o/mlink.json" ] && grep -q '"layers"' "$tmp/o/model.json" &&
  ok "synth --out a symbolic link writes its target" || bad "synth through a link: $(ls -l "$tmp/o")"

# a write that fails (the file size limit) leaves the file and no temporary
echo old > "$tmp/o/big.csv"
before=$(ls "$tmp/o" | sort | tr '\n' ' ')
out=$(sh -c "trap '' XFSZ; ulimit -f 4; exec ./spikemesh trace convert '$tmp/s.smt' '$tmp/o/big.csv' --csv" 2>&1); st=$?
[ $st = 1 ] && [ "$(cat "$tmp/o/big.csv")" = old ] && [ "$(ls "$tmp/o" | sort | tr '\n' ' ')" = "$before" ] &&
  echo "$out" | grep -q "unchanged" &&
  ok "a failed write leaves the file as it was and no temporary" ||
  bad "failed write: exit $st: $out; $(ls "$tmp/o")"

# ---- 2. two processes, one run -------------------------------------------
# wait until `cond` (a shell command) holds, at most 60 s
until_() { i=0; while ! eval "$1" && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done; eval "$1"; }
host=$(hostname 2>/dev/null || uname -n)
# a run killed outright keeps its claim: the next --resume takes it over
$R --frames 5000 --db "$tmp/two.db" >/dev/null 2>&1 &
k=$!
until_ '[ "$(q "$tmp/two.db" "SELECT frames_done >= 3 FROM runs" 2>/dev/null)" = 1 ]' || bad "first run never recorded"
kill -KILL $k; wait $k 2>/dev/null
[ "$(q "$tmp/two.db" "SELECT pid FROM claims")" = $k ] && ok "a killed run still names its process" ||
  bad "claim after SIGKILL: $(q "$tmp/two.db" "SELECT * FROM claims")"
$R --frames 5000 --db "$tmp/two.db" --resume > "$tmp/a.out" 2>&1 &
a=$!
until_ '[ "$(q "$tmp/two.db" "SELECT pid FROM claims" 2>/dev/null)" = $a ]' &&
  ok "--resume takes over the claim of a process that is gone" || bad "no takeover: $(q "$tmp/two.db" "SELECT * FROM claims")"
# a second --resume of the same run while the first records it: refused,
# naming the holder, and the run left alone
out=$($R --frames 5000 --db "$tmp/two.db" --resume 2>&1); st=$?
[ $st = 1 ] && echo "$out" | grep -q "run 1 is being recorded by pid $a on host $host since" &&
  ok "a second --resume is refused with the holder's pid, host and start time" || bad "second --resume: exit $st: $out"
kill -TERM $a; wait $a
grep -q "taken over" "$tmp/a.out" && ok "the resumed run says it took over" || bad "no takeover line: $(head -3 "$tmp/a.out")"
[ "$(q "$tmp/two.db" "SELECT status FROM runs")" = interrupted ] && [ "$(q "$tmp/two.db" "SELECT count(*) FROM claims")" = 0 ] &&
  [ "$(q "$tmp/two.db" "SELECT count(*) FROM runs")" = 1 ] &&
  ok "the holder's run ends as it says (interrupted), its claim released" ||
  bad "after the holder: $(q "$tmp/two.db" "SELECT run_id, status FROM runs; SELECT * FROM claims")"
./spikemesh db check "$tmp/two.db" >/dev/null 2>&1 && ok "db check after two writers" || bad "db check: $(./spikemesh db check "$tmp/two.db" | grep FAIL)"

data=/usr/share/datasets/fashion-mnist
if [ -e "$data/t10k-labels-idx1-ubyte.gz" ] || [ -e "$data/t10k-labels-idx1-ubyte" ]; then
  cat > "$tmp/g.json" <<'G'
{"frames": 10000, "grid": {"noc.buffer_depth": [1, 2]}}
G
  ./spikemesh sweep "$tmp/g.json" --jobs 2 --detail summary --quiet > "$tmp/sa.out" 2>&1 &
  a=$!
  until_ '[ "$(q "$tmp/g.db" "SELECT count(*) FROM claims WHERE pid = $a" 2>/dev/null)" = 2 ]' || bad "first sweep never claimed its points"
  out=$(./spikemesh sweep "$tmp/g.json" --jobs 2 --detail summary 2>&1); st=$?
  [ $st = 1 ] && echo "$out" | grep -q "point 1/2 held, not run: run 1 is being recorded by pid $a on host $host" &&
    echo "$out" | grep -q "2 held by another process" &&
    ok "a second sweep on the database reports the points held and runs none (exit 1)" ||
    bad "second sweep: exit $st: $out"
  kill -TERM $a; wait $a
  [ "$(q "$tmp/g.db" "SELECT count(*) FROM runs")" = 2 ] &&
    [ "$(q "$tmp/g.db" "SELECT count(*) FROM runs WHERE status = 'interrupted'")" = 2 ] &&
    [ "$(q "$tmp/g.db" "SELECT count(*) FROM claims")" = 0 ] &&
    ok "the second sweep left the first one's runs alone" ||
    bad "sweep runs: $(q "$tmp/g.db" "SELECT run_id, status FROM runs")"
else
  echo "note: no $data: two sweeps not tried"
fi

# ---- 3. another program's database ----------------------------------------
sqlite3 "$tmp/other.db" "CREATE TABLE runs(id INTEGER PRIMARY KEY, who TEXT); INSERT INTO runs(who) VALUES ('them');"
sqlite3 "$tmp/meta.db" "CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES ('owner', 'them');"
printf 'not a database, only text, but more than a header of it\n%.0s' 1 2 3 4 5 6 7 8 > "$tmp/text.db"
./spikemesh trace export --db "$tmp/r.db" --kind packet -o "$tmp/p.smt" >/dev/null 2>&1 || bad "packet trace"
echo '{"frames": 2, "grid": {"noc.buffer_depth": [1]}}' > "$tmp/g1.json"
refused=1
for f in other meta text; do
  db="$tmp/$f.db"
  c0=$(sum "$db")
  for cmd in "run --data synthetic:1 --frames 2 --quiet" "replay --trace $tmp/p.smt" "noc traffic.rates=0.1" \
             "sweep $tmp/g1.json --quiet"; do
    out=$(./spikemesh $cmd --db "$db" 2>&1); st=$?
    [ $st = 2 ] && echo "$out" | grep -q "$db: not a spikemesh database" && [ "$(sum "$db")" = "$c0" ] &&
      [ ! -e "$db-wal" ] && [ ! -e "$db-journal" ] ||
      { refused=0; bad "${cmd%% *} --db $f.db: exit $st, checksum $(sum "$db") (was $c0): $out"; }
  done
done
[ $refused = 1 ] && ok "run, replay, noc and sweep refuse other programs' databases, unchanged"
[ "$(q "$tmp/other.db" "SELECT who FROM runs")" = them ] && ok "their rows are still theirs" || bad "other.db changed"

# ---- 4. locks, names that record nothing, damage, the data digest ----------
# a lock held for 3 s (longer than the old 2 s wait) is waited for
# (the holder waits for the lock itself: the probe below takes it for an
# instant, and a holder without a busy timeout lost to it at high load)
(echo ".timeout 60000"; echo "BEGIN EXCLUSIVE;"; sleep 3; echo "COMMIT;") | sqlite3 "$tmp/r.db" &
holder=$!
until_ '! sqlite3 "$tmp/r.db" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1' || bad "the lock was never taken"
out=$($R --frames 2 --db "$tmp/r.db" 2>&1); st=$?
wait $holder
[ $st = 0 ] && [ "$(q "$tmp/r.db" "SELECT status FROM runs WHERE run_id = 2")" = complete ] &&
  ok "a database locked for 3 s is waited for, the run completes" || bad "briefly locked: exit $st: $out"

# --db "" records nothing: refused by every command taking --db
for cmd in "run --data synthetic:1 --frames 1 --quiet" "sweep $tmp/g1.json" "noc" \
           "replay --trace $tmp/p.smt" "trace export -o $tmp/x.smt" "energy frame"; do
  out=$(./spikemesh $cmd --db "" 2>&1); st=$?
  [ $st = 2 ] && echo "$out" | grep -q -- "--db '': expected a database file name" ||
    bad "${cmd%% *} --db '': exit $st: $out"
done
out=$(./spikemesh replay --from-db "" 2>&1); st=$?
[ $st = 2 ] && ok "--db \"\" and --from-db \"\" refused" || bad "--from-db '': exit $st: $out"

# a damaged database: db info and db digest say so on stderr
cp "$tmp/r.db" "$tmp/bad.db"
sqlite3 "$tmp/bad.db" "CREATE TABLE junk(x); INSERT INTO junk VALUES (randomblob(200));
  PRAGMA writable_schema=ON; DELETE FROM sqlite_master WHERE name='junk'; PRAGMA writable_schema=OFF;"
[ "$(sqlite3 "$tmp/bad.db" "PRAGMA quick_check")" != ok ] || bad "the damage did not take"
for sub in info digest; do
  ./spikemesh db $sub "$tmp/bad.db" >/dev/null 2>"$tmp/err"
  grep -q "warning: $tmp/bad.db is damaged: SQLite's quick_check found: .*never used" "$tmp/err" &&
    ok "db $sub warns about a damaged database" || bad "db $sub on a damaged database: $(cat "$tmp/err")"
done
./spikemesh db digest "$tmp/r.db" 2>"$tmp/err" >/dev/null && [ ! -s "$tmp/err" ] &&
  ok "no warning for a sound database" || bad "warning on r.db: $(cat "$tmp/err")"

# db digest --data: the same results give the same digest whatever the
# model path and the queue kind; another seed does not
mkdir "$tmp/m"
cp "$srcdir/models/fmnist-mlp.json" "$tmp/m/copy.json"
$R --frames 3 --detail link --db "$tmp/d1.db" >/dev/null 2>&1
$R --frames 3 --detail link --db "$tmp/d2.db" --model "$tmp/m/copy.json" sim.queue=heap4 >/dev/null 2>&1
$R --frames 3 --detail link --db "$tmp/d3.db" sim.seed=7 >/dev/null 2>&1
dd() { ./spikemesh db digest --data "$1" | cut -d' ' -f1; }
df() { ./spikemesh db digest "$1" | cut -d' ' -f1; }
[ "$(df "$tmp/d1.db")" != "$(df "$tmp/d2.db")" ] && [ "$(dd "$tmp/d1.db")" = "$(dd "$tmp/d2.db")" ] &&
  ok "db digest --data ignores the model path and sim.queue, db digest does not" ||
  bad "data digests: $(dd "$tmp/d1.db") $(dd "$tmp/d2.db"), full $(df "$tmp/d1.db") $(df "$tmp/d2.db")"
[ "$(dd "$tmp/d1.db")" != "$(dd "$tmp/d3.db")" ] && ok "another seed, another data digest" || bad "seed not in the data digest"
sqlite3 "$tmp/d2.db" "UPDATE frames SET hops = hops + 1 WHERE frame = 2"
[ "$(dd "$tmp/d1.db")" != "$(dd "$tmp/d2.db")" ] && ok "a changed result changes the data digest" || bad "data digest blind to frames"
out=$(./spikemesh db digest --data "$tmp/d1.db:9" 2>&1); st=$?
[ $st = 2 ] && echo "$out" | grep -q "no run 9" && ok "db digest --data of a missing run" || bad "missing run: exit $st: $out"

exit $fail
