#!/bin/sh
# run --jobs N: frames on N threads, recorded in frame order.  For the
# shipped MLP and CNN at spike detail, --jobs 1, 2 and 3 record the same
# data (db digest --data) and print the same figures (every line but the
# speed line); the CNN at packet detail too.  A run left unfinished (its
# last frames deleted, or stopped by SIGINT mid-way under --jobs 2)
# resumes under another N to the uninterrupted run's digest; a stop
# leaves whole frames 0..done-1 only.  Bad --jobs values are refused
# naming the option and the range.  Uses the Fashion-MNIST test set when
# it is installed, synthetic frames otherwise.
set -u
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S=./spikemesh
src=${srcdir:-..}
q() { sqlite3 -batch -noheader "$1" "$2"; }
dig() { $S db digest --data "$1" | cut -d' ' -f1; }
D=
[ -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ] ||
  [ -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte ] ||
  D="--data synthetic:5"

expect() { # expect DESC STATUS PATTERN -- cmd...: exit STATUS, stderr has PATTERN
  d=$1 want=$2 pat=$3; shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
  if [ "$got" = "$want" ] && grep -q -- "$pat" "$tmp/err"; then ok "$d"
  else bad "$d: exit $got (want $want), stderr: $(head -3 "$tmp/err")"; fi
}

# 1. same database and same printed figures for every N
same() { # same NAME MODEL FRAMES DETAIL
  name=$1 model=$2 frames=$3 detail=$4
  for j in 1 2 3; do
    $S run --model "$src/models/$model" $D --frames "$frames" --quiet \
      --detail "$detail" --db "$tmp/$name$j.db" --jobs $j > "$tmp/$name$j.out" 2>&1 ||
      bad "$name --jobs $j: exit $?: $(tail -3 "$tmp/$name$j.out")"
    grep -v '^speed:' "$tmp/$name$j.out" > "$tmp/$name$j.fig"
  done
  d1=$(dig "$tmp/${name}1.db")
  n=$(q "$tmp/${name}1.db" "SELECT count(*) FROM frames")
  rows=$(q "$tmp/${name}1.db" "SELECT count(*) FROM spikes")
  [ "$n" = "$frames" ] && [ "$rows" -gt 0 ] && [ -n "$d1" ] &&
    [ "$d1" = "$(dig "$tmp/${name}2.db")" ] && [ "$d1" = "$(dig "$tmp/${name}3.db")" ] &&
    ok "$name: --jobs 1, 2, 3 record the same data ($d1; $n frames, $rows spikes)" ||
    bad "$name: digests $d1 $(dig "$tmp/${name}2.db") $(dig "$tmp/${name}3.db"), $n frames"
  grep -q '^energy per frame' "$tmp/${name}1.fig" &&
    cmp -s "$tmp/${name}1.fig" "$tmp/${name}2.fig" && cmp -s "$tmp/${name}1.fig" "$tmp/${name}3.fig" &&
    ok "$name: --jobs 1, 2, 3 print the same figures" ||
    bad "$name: printed figures differ: $(diff "$tmp/${name}1.fig" "$tmp/${name}2.fig" | head -5)"
  $S db check "$tmp/${name}2.db" > /dev/null && ok "$name: db check passes at --jobs 2" ||
    bad "$name: db check at --jobs 2"
}
same mlp fmnist-mlp.json 40 spike
same cnn fmnist-cnn.json 24 spike
same cnnp fmnist-cnn.json 8 packet
[ "$(q "$tmp/cnnp1.db" "SELECT count(*) FROM packets")" -gt 0 ] &&
  ok "packet rows recorded" || bad "no packet rows"

# --compare (the reference forward on its own thread) sees frames in order
for j in 1 2; do
  $S run --model "$src/models/fmnist-cnn.json" $D --frames 20 --quiet --compare \
    --jobs $j | grep -v '^speed:' > "$tmp/cmp$j.fig" || bad "--compare --jobs $j"
done
grep -q '^reference forward' "$tmp/cmp1.fig" && cmp -s "$tmp/cmp1.fig" "$tmp/cmp2.fig" &&
  ok "--compare: --jobs 1 and 2 print the same agreement" ||
  bad "--compare differs: $(diff "$tmp/cmp1.fig" "$tmp/cmp2.fig" | head -4)"

# 2. resume under another N: unfinish a run at frame 9, resume
for pair in "1 3" "3 2"; do
  set -- $pair
  db=$tmp/res$1$2.db
  $S run --model "$src/models/fmnist-cnn.json" $D --frames 24 --quiet \
    --detail spike --db "$db" --jobs $1 > /dev/null || bad "run to unfinish"
  q "$db" "DELETE FROM frames WHERE frame >= 9; DELETE FROM cores WHERE frame >= 9;
    DELETE FROM layer_frames WHERE frame >= 9; DELETE FROM spikes WHERE frame >= 9;
    DELETE FROM links WHERE frame >= 9; DELETE FROM ports WHERE frame >= 9;
    UPDATE runs SET status = 'interrupted', frames_done = 9"
  $S run --model "$src/models/fmnist-cnn.json" $D --frames 24 --quiet \
    --detail spike --db "$db" --resume --jobs $2 > "$tmp/res.out" 2>&1 &&
    grep -q "at frame 9" "$tmp/res.out" && [ "$(dig "$db")" = "$(dig "$tmp/cnn1.db")" ] &&
    ok "recorded with --jobs $1, resumed at frame 9 with --jobs $2: the uninterrupted digest" ||
    bad "resume --jobs $1 -> $2: $(dig "$db") want $(dig "$tmp/cnn1.db"); $(tail -2 "$tmp/res.out")"
done

# 3. SIGINT under --jobs 2: whole frames in order, then resume with --jobs 1
N=3000
R="$S run --model $src/models/fmnist-mlp.json $D --frames $N --quiet --detail link"
$R --db "$tmp/full.db" > /dev/null || bad "uninterrupted run"
$R --db "$tmp/int.db" --jobs 2 > "$tmp/int.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 400 ]; do
  d_=$(q "$tmp/int.db" "SELECT frames_done FROM runs" 2>/dev/null || echo 0)
  [ "${d_:-0}" -ge 40 ] 2>/dev/null && break
  sleep 0.05; i=$((i + 1))
done
kill -INT $pid; wait $pid; st=$?
fd=$(q "$tmp/int.db" "SELECT frames_done FROM runs")
stat=$(q "$tmp/int.db" "SELECT status FROM runs")
nf=$(q "$tmp/int.db" "SELECT count(*) || ' ' || coalesce(max(frame), -1) FROM frames")
nc=$(q "$tmp/int.db" "SELECT count(DISTINCT frame) FROM cores")
[ "$st" = 1 ] && [ "$stat" = interrupted ] && [ "$fd" -lt $N ] && [ "$fd" -ge 40 ] &&
  [ "$nf" = "$fd $((fd - 1))" ] && [ "$nc" = "$fd" ] &&
  grep -q "interrupted after $fd of $N frames" "$tmp/int.out" &&
  ok "SIGINT under --jobs 2: exit 1, frames 0..$((fd - 1)) whole and in order" ||
  bad "SIGINT: exit $st, status $stat, frames_done $fd, frames (count max) $nf, cores frames $nc"
$R --db "$tmp/int.db" --resume --jobs 1 > /dev/null &&
  [ "$(dig "$tmp/int.db")" = "$(dig "$tmp/full.db")" ] &&
  ok "resumed with --jobs 1 after the stop: the uninterrupted digest" ||
  bad "resume after SIGINT: $(dig "$tmp/int.db") want $(dig "$tmp/full.db")"

# 4. bad values, and the help
for v in 0 -1 abc 65 1.5 ""; do
  expect "--jobs '$v' refused" 2 "jobs '$v': expected a number of threads, 1..64" -- \
    $S run --model "$src/models/fmnist-mlp.json" --frames 2 --jobs "$v"
done
expect "--jobs without a value refused" 2 "unknown or incomplete option '--jobs'" -- \
  $S run --model "$src/models/fmnist-mlp.json" --frames 2 --jobs
$S run --help | grep -q -- "--jobs N .*1..64 \[1\]" && ok "run --help documents --jobs" ||
  bad "run --help has no --jobs"

exit $fail
