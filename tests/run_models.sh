#!/bin/sh
# spikemesh run with malformed model files: exit 2 and a message naming
# the file and the field (wrong version, bad shapes, truncated weights,
# truncated JSON).  The bad files are edits of the shipped model.
set -u
fail=0
check() { # check DESCRIPTION EXPECTED_STATUS PATTERN -- command...
  desc=$1 want=$2 pat=$3; shift 4
  out=$("$@" 2>&1); got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $desc: exit $got, expected $want"; echo "$out" | head -5; fail=1
  elif ! printf '%s' "$out" | grep -q -- "$pat"; then
    echo "FAIL: $desc: output lacks '$pat'"; echo "$out" | head -5; fail=1
  else
    echo "ok: $desc"
  fi
}
good="$srcdir/models/fmnist-mlp.json"
[ -r "$good" ] || { echo "no $good: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { ./spikemesh run --quiet --frames 1 --model "$@"; }

sed 's/"version": 1,/"version": 2,/' "$good" > "$tmp/version.json"
check "wrong version" 2 "version.json: 'version' = 2" -- run "$tmp/version.json"
sed 's/"out": 800,/"out": 801,/' "$good" > "$tmp/shape.json"
check "bad shape: weight count does not match the layer" 2 \
  "shape.json: layer 0.*count" -- run "$tmp/shape.json"
sed 's/"height": 28,/"height": 27,/' "$good" > "$tmp/input.json"
check "bad shape: input does not match the data" 2 "input.json" -- \
  run "$tmp/input.json"
# keep the first 40 characters of the second layer's weight data
sed -E '/"count": 8000,/,/"data"/ s/("data": "[^"]{40})[^"]*"/\1"/' "$good" \
  > "$tmp/weights.json"
check "truncated weights" 2 "weights.json: layer 1.*'data'" -- \
  run "$tmp/weights.json"
head -c 2000 "$good" > "$tmp/cut.json"
check "truncated file" 2 "cut.json" -- run "$tmp/cut.json"
check "missing file" 2 "nothere.json" -- run "$tmp/nothere.json"
exit $fail
