#!/bin/sh
# Replay every saved fuzz input (tests/data/fuzz/<harness>/) and the seed
# files (shipped models, presets) through the harnesses.  Each input that
# once crashed stays here as a regression test.
set -u
fail=0
run() { # run HARNESS FILE...
  h=$1; shift
  [ $# -gt 0 ] || return 0
  if out=$(tests/fuzz/fuzz_$h "$@" 2>&1); then
    echo "ok: $h: $out"
  else
    echo "FAIL: $h"; echo "$out" | tail -20; fail=1
  fi
}
files() { for f in "$@"; do [ -f "$f" ] && echo "$f"; done; }
d=$srcdir/tests/data/fuzz
run conf $(files "$d"/conf/* "$srcdir"/models/arch/*.json)
run kv $(files "$d"/kv/*)
run model $(files "$d"/model/* "$srcdir"/models/*.json)
run idx $(files "$d"/idx/*)
run trace $(files "$d"/trace/*)
run grid $(files "$d"/grid/* "$srcdir"/doc/sweep-*.json)
exit $fail
