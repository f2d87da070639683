#!/bin/sh
# The digest set: a fixed list of recorded runs whose database digests
# (spikemesh db digest: every row of every table, timestamps and run id
# excluded) must stay what tests/data/digests.txt says.  It holds the
# behaviour of the simulator still while code moves: the shipped MLP and
# CNN at link detail, a two-point sweep, a spike trace exported and
# replayed through a 4x4 mesh, and a synthetic VGG11 frame.
#
# Run from a scratch folder with the models copied beside it, so the
# paths recorded in the run rows are the same in every checkout.
#
#   tests/digests.sh            compare with tests/data/digests.txt
#   tests/digests.sh --print    print the set (to record a new one after a
#                               change of behaviour that is meant)
# Needs the Fashion-MNIST test set (skipped without it).
set -u
here=$(pwd)
src=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
bin=$here/spikemesh
[ -x "$bin" ] || bin=$here/build/spikemesh
[ -x "$bin" ] || { echo "FAIL: no spikemesh program in $here"; exit 1; }
data=/usr/share/datasets/fashion-mnist
[ -e "$data/t10k-labels-idx1-ubyte.gz" ] || [ -e "$data/t10k-labels-idx1-ubyte" ] ||
  { echo "skip: no $data"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/models/fmnist-mlp.json" "$src/models/fmnist-cnn.json" "$tmp/" || exit 1
cd "$tmp" || exit 1
S() { "$bin" "$@" > "$tmp/last.out" 2>&1 || { echo "FAIL: spikemesh $*"; cat "$tmp/last.out"; exit 1; }; }
dig() { "$bin" db digest "$1" | cut -d' ' -f1; }
sum() { cksum < "$1" | cut -d' ' -f1; }

S run --model fmnist-mlp.json --frames 200 --db mlp.db --detail link --quiet
S run --model fmnist-cnn.json --frames 40 --db cnn.db --detail link --quiet
cat > grid.json <<'G'
{"frames": 25, "model": "fmnist-mlp.json",
 "grid": {"noc.buffer_depth": [1, 4], "mesh": ["2x2", "3x3"]}}
G
S sweep grid.json --jobs 2 --db sweep.db --detail link --quiet
S run --model fmnist-mlp.json --frames 30 --db spike.db --detail spike --quiet
S trace export --db spike.db -o spike.trace
S trace export --db spike.db --csv -o spike.csv
S replay --trace spike.trace --mesh 4x4 --db replay.db
S synth --arch vgg11 --width-div 16 --calib 1 --out vgg11.json
S run --model vgg11.json --data synthetic:3 --frames 1 --db vgg.db --detail link --quiet

{
  echo "run-mlp-link $(dig mlp.db)"
  echo "run-cnn-link $(dig cnn.db)"
  for k in $(sqlite3 sweep.db "SELECT run_id FROM runs ORDER BY point_key" 2>/dev/null ||
             echo 1 2 3 4); do
    echo "sweep-point $(dig sweep.db:$k)"
  done
  echo "run-mlp-spike $(dig spike.db)"
  echo "trace-spike-binary $(sum spike.trace)"
  echo "trace-spike-csv $(sum spike.csv)"
  echo "replay-4x4 $(dig replay.db)"
  echo "synth-vgg11-model $(sum vgg11.json)"
  echo "run-vgg11-synthetic $(dig vgg.db)"
} > got.txt

# every database recorded here passes the audit
for f in *.db; do
  "$bin" db check "$f" > audit.out 2>&1 ||
    { echo "FAIL: db check $f:"; grep -v '^  ok' audit.out | head -8; exit 1; }
done

if [ "${1:-}" = --print ]; then
  cat got.txt
  exit 0
fi
if diff "$src/tests/data/digests.txt" got.txt > diff.txt; then
  echo "ok: $(wc -l < got.txt) digests as recorded in tests/data/digests.txt"
  exit 0
fi
echo "FAIL: digests differ from tests/data/digests.txt (< recorded, > now):"
cat diff.txt
exit 1
