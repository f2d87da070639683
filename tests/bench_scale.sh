#!/bin/sh
# spikemesh bench scale: bad arguments are refused; a cheap run (1 repeat,
# few frames, a VGG11 of divided widths) prints figures that agree with
# each other: speed-up = 1-thread wall / 2-thread wall, efficiency =
# speed-up / threads, frames/s = frames / wall, and the same results.
# bench lookahead: refusals; its means are its counts over its windows.
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

# ---- bench lookahead: refusals; a small VGG16's figures agree -------------
check "lookahead --rounds 0" 2 "bench lookahead: --rounds '0': expected 1..10000000" -- ./spikemesh bench lookahead --rounds 0
check "lookahead unknown option" 2 "unknown or incomplete option '--regions'" -- ./spikemesh bench lookahead --regions 3
check "lookahead unknown key" 2 "unknown key 'noc.bogus'" -- ./spikemesh bench lookahead noc.bogus=1
check "lookahead missing model" 2 "nosuch.json" -- ./spikemesh bench lookahead --model "$tmp/nosuch.json"
check "lookahead of 0 ps refused" 2 "lookahead 0 ps" -- ./spikemesh bench lookahead synth.width_div=16 synth.calib_images=1 noc.t_link=0 noc.t_buffer=0 noc.t_route=0 noc.t_alloc=0 noc.t_xbar=0
if ! ./spikemesh bench lookahead synth.width_div=16 synth.calib_images=1 \
    --rounds 200 noc.t_link=400 >"$tmp/la" 2>&1; then
  echo "FAIL: bench lookahead exits non-zero"; cat "$tmp/la"; fail=1
fi
# the lookahead is the sum of the delays of the preset (t_link given)
awk -v bad=0 '
  /^lookahead:/ { la = $2 }
  /^frame:/ { ev = $2; ps = $5; win = $7; busy = $9; at = $12 }
  $1 == "none" { m1 = $3 } $1 == "halves" { m2 = $3 } $1 == "quadrants" { m4 = $3 }
  END {
    if (la == "" || ev == "" || m1 == "") { print "FAIL: lookahead output not parsed"; exit 1 }
    # windows cover [0, last event]: ceil-ish of ps / la
    if (win != int(ps / la) + 1) { print "FAIL: " win " windows for " ps " ps at " la " ps"; bad = 1 }
    if (busy > win || at > ev) { print "FAIL: busy/attributed exceed their totals"; bad = 1 }
    d = m1 - ev / win; if (d < 0) d = -d
    if (d > 0.005 + ev / win * 1e-6) { print "FAIL: mean " m1 " but events/windows = " ev / win; bad = 1 }
    d = m2 - at / win / 2; if (d < 0) d = -d
    if (d > 0.005) { print "FAIL: halves mean " m2 " but attributed/windows/2 = " at / win / 2; bad = 1 }
    d = m4 - at / win / 4; if (d < 0) d = -d
    if (d > 0.005) { print "FAIL: quadrants mean " m4 " but attributed/windows/4 = " at / win / 4; bad = 1 }
    exit bad
  }' "$tmp/la" || { fail=1; cat "$tmp/la"; }
la=$(sed -n 's/^lookahead: \([0-9]*\) ps.*/\1/p' "$tmp/la")
want=$(./spikemesh config noc.t_link=400 | awk -F'[:,]' '/"noc.t_(buffer|route|alloc|xbar|link)"/ { s += $2 } END { print s }')
[ -n "$la" ] && [ "$la" = "$want" ] && echo "ok: lookahead = t_link + router pipeline ($la ps)" || {
  echo "FAIL: lookahead '$la' ps, the configuration sums to '$want'"; fail=1; }
exit $fail
