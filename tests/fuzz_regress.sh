#!/bin/sh
# Replay every saved fuzz input (tests/data/fuzz/<harness>/) and the seed
# files (shipped models, presets) through the harnesses.  Each input that
# once crashed stays here as a regression test.  A harness with no saved
# input fails: a missing corpus must not pass as a clean one.  Inputs in
# tests/data/fuzz/<harness>/open/ (findings not fixed yet) are replayed
# and reported only.
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
for h in conf kv model idx trace grid arch replay; do
  [ -n "$(files "$d/$h"/*)" ] || { echo "FAIL: $h: no saved inputs in $d/$h"; fail=1; }
done
run conf $(files "$d"/conf/* "$srcdir"/models/arch/*.json)
run kv $(files "$d"/kv/*)
run model $(files "$d"/model/* "$srcdir"/models/*.json)
run idx $(files "$d"/idx/*)
run trace $(files "$d"/trace/*)
run grid $(files "$d"/grid/* "$srcdir"/doc/sweep-*.json)
run arch $(files "$d"/arch/*)
run replay $(files "$d"/replay/* "$d"/trace/*)
# Open findings: inputs that still crash a parser (in some build) until
# the fix lands, kept in tests/data/fuzz/<harness>/open/.  Reported here,
# never failing the test; once fixed, an input moves up to its harness's
# folder and becomes a regression input like the others.
for h in conf kv model idx trace grid arch replay; do
  for f in $(files "$d/$h"/open/*); do
    if tests/fuzz/fuzz_$h "$f" >/dev/null 2>&1; then
      echo "open: $h: $f passes in this build (a sanitizer finding passes a plain build; once fixed, move it to $d/$h/)"
    else
      echo "open: $h: $f still fails"
    fi
  done
done
exit $fail
