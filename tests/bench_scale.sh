#!/bin/sh
# spikemesh bench scale: bad arguments are refused; a cheap run (1 repeat,
# few frames, a VGG11 of divided widths) prints figures that agree with
# each other: speed-up = 1-thread wall / 2-thread wall, efficiency =
# speed-up / threads, frames/s = frames / wall, and the same results.
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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check "bench lists scale" 0 "scale .*ranks not built" -- ./spikemesh bench --help
check "help says ranks are not built" 0 "Ranks (MPI) are not built" -- ./spikemesh bench scale --help
check "--repeat 0" 2 "bench scale: --repeat '0': expected 1..99" -- ./spikemesh bench scale --repeat 0
check "--repeat not a number" 2 "--repeat 'x'" -- ./spikemesh bench scale --repeat x
check "--repeat without a value" 2 "unknown or incomplete option '--repeat'" -- ./spikemesh bench scale --repeat
check "--frames 0" 2 "bench scale: --frames '0': expected a count >= 1" -- ./spikemesh bench scale --frames 0
check "--frames too many" 2 "--frames '100001': expected 1..100000" -- ./spikemesh bench scale --frames 100001
check "--vgg-frames 0" 2 "--vgg-frames '0': expected 1..1000" -- ./spikemesh bench scale --vgg-frames 0
check "unknown option" 2 "unknown or incomplete option '--ranks'" -- ./spikemesh bench scale --ranks 2
check "unknown key names it" 2 "unknown key 'sim.sed'" -- ./spikemesh bench scale sim.sed=1
check "a bad synth key value names it" 2 "synth.width_div" -- ./spikemesh bench scale --frames 1 synth.width_div=0

if ! ./spikemesh bench scale --repeat 1 --frames 6 --vgg-frames 2 \
    synth.width_div=16 synth.calib_images=1 >"$tmp/out" 2>&1; then
  echo "FAIL: bench scale exits non-zero"; cat "$tmp/out"; fail=1
fi
grep -q "^ranks (MPI): not built" "$tmp/out" || {
  echo "FAIL: the output does not say ranks are not built"; fail=1; }
for m in cnn vgg11; do
  grep -q "^$m  *same results: yes$" "$tmp/out" || {
    echo "FAIL: $m: no 'same results: yes'"; fail=1; }
  # model threads frames wall cpu frames/s speed-up efficiency
  awk -v m="$m" '
    function abs(x) { return x < 0 ? -x : x }
    $1 == m && $2 ~ /^[0-9]+$/ {
      n++; th[n] = $2; fr[n] = $3; w[n] = $4; c[n] = $5; fps[n] = $6
      su[n] = $7; sub(/x$/, "", su[n]); ef[n] = $8
    }
    END {
      if (n != 2 || th[1] != 1 || th[2] != 2) { print "FAIL: " m ": want lines for 1 and 2 threads"; exit 1 }
      bad = 0
      for (i = 1; i <= 2; i++) {
        if (w[i] <= 0 || c[i] <= 0) { print "FAIL: " m ": times not positive"; bad = 1 }
        # printed to 6 decimals: the ratio is known to within these bounds
        s = w[1] / w[i]; tol = s * (0.5e-6 / w[1] + 0.5e-6 / w[i]) + 0.0005
        if (abs(su[i] - s) > tol) { print "FAIL: " m " " th[i] ": speed-up " su[i] " but t1/t" th[i] " = " s; bad = 1 }
        if (abs(ef[i] - su[i] / th[i]) > 0.0005 + 0.0005 / th[i]) { print "FAIL: " m " " th[i] ": efficiency " ef[i] " but speed-up/threads = " su[i] / th[i]; bad = 1 }
        f = fr[i] / w[i]; if (abs(fps[i] - f) > 0.05 + f * 0.5e-6 / w[i]) { print "FAIL: " m " " th[i] ": frames/s " fps[i] " but frames/wall = " f; bad = 1 }
      }
      if (su[1] + 0 != 1) { print "FAIL: " m ": 1 thread speed-up " su[1]; bad = 1 }
      if (fr[1] != fr[2]) { print "FAIL: " m ": frame counts differ"; bad = 1 }
      exit bad
    }' "$tmp/out" || { fail=1; cat "$tmp/out"; }
done
grep -q "^cnn  *1  *6 " "$tmp/out" && grep -q "^vgg11  *2  *2 " "$tmp/out" || {
  echo "FAIL: --frames / --vgg-frames not honoured"; fail=1; }
[ $fail = 0 ] && echo "ok: bench scale figures agree with each other"
exit $fail
