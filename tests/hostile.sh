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

exit $fail
