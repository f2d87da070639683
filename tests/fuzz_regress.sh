#!/bin/sh
# Replay every saved fuzz input (tests/data/fuzz/<harness>/) and the seed
# files (shipped models, presets) through the harnesses.  Each input that
# once crashed stays here as a regression test.  A harness with no saved
# input fails: a missing corpus must not pass as a clean one.
set -u
fail=0
run() { # run HARNESS FILE...
  h=$1; shift
  if [ $# -eq 0 ]; then
    echo "FAIL: $h: no inputs (is $srcdir/tests/data/fuzz/$h there?)"; fail=1
    return
  fi
  if out=$(tests/fuzz/fuzz_$h "$@" 2>&1); then
    echo "ok: $h: $out"
  else
    echo "FAIL: $h"; echo "$out" | tail -20; fail=1
  fi
}
files() { for f in "$@"; do [ -f "$f" ] && echo "$f"; done; }
d=$srcdir/tests/data/fuzz
for h in conf kv model idx trace grid; do
  [ -n "$(files "$d/$h"/*)" ] || { echo "FAIL: $h: no saved inputs in $d/$h"; fail=1; }
done
run conf $(files "$d"/conf/* "$srcdir"/models/arch/*.json)
run kv $(files "$d"/kv/*)
run model $(files "$d"/model/* "$srcdir"/models/*.json)
run idx $(files "$d"/idx/*)
run trace $(files "$d"/trace/*)
run grid $(files "$d"/grid/* "$srcdir"/doc/sweep-*.json)
exit $fail
