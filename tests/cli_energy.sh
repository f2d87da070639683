#!/bin/sh
# spikemesh energy: Table 2 reproduced from Eq. 11, Eq. 12 from counts with
# units, and clear errors for bad tables and values.
set -u
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every printed entry of Table 2 is reproduced to its 4 decimals, except
# the phase row's TrueNorth entry, which no spike count can reproduce
# together with its SpiNNaker entry (doc/energy.md): there the difference
# must be exactly one unit in the last place.
./spikemesh energy theory --json > "$tmp/t2.json" || bad "energy theory runs"
exact=0 off1=0 other=0
while IFS= read -r line; do
  for a in TrueNorth SpiNNaker; do
    v=$(printf '%s' "$line" | sed -E "s/.*\"$a\":([0-9.]+).*/\1/")
    p=$(printf '%s' "$line" | sed -E "s/.*\"${a}_printed\":([0-9.]+).*/\1/")
    d=$(awk -v v="$v" -v p="$p" 'BEGIN { r = sprintf("%.4f", v) + 0; d = r - p; if (d < 0) d = -d; if (d < 0.00001) print 0; else if (d < 0.00015) print 1; else print 2 }')
    case $d in 0) exact=$((exact + 1)) ;; 1) off1=$((off1 + 1)) ;; *) other=$((other + 1)) ;; esac
  done
done < "$tmp/t2.json"
[ "$exact" = 11 ] && [ "$off1" = 1 ] && [ "$other" = 0 ] && ok "Table 2: 11 exact, 1 off by one unit" ||
  bad "Table 2: exact=$exact off-by-one=$off1 other=$other"
grep -q '"coding":"Phase \[26\]".*"TrueNorth":7.1477' "$tmp/t2.json" && ok "the off-by-one entry is phase/TrueNorth" || bad "phase/TrueNorth"

# The plain ratio of Eq. 11 is not what the paper printed: per-term
# normalization is (DTA-TTFS on TrueNorth would be 0.3115 otherwise).
grep -q '"coding":"DTA-TTFS".*"TrueNorth":0.19867' "$tmp/t2.json" && ok "DTA-TTFS TrueNorth 0.1987" || bad "DTA-TTFS TrueNorth"

# User coefficients and another baseline.
out=$(./spikemesh energy theory --arch mine=1,0 --baseline DTA-TTFS --json)
printf '%s' "$out" | grep -q '"coding":"Rate \[19\]".*"mine":3.200000' && ok "user architecture, latency only, baseline DTA-TTFS" || bad "user architecture: $out"

# Eq. 12 with the paper's stated counts.
out=$(./spikemesh energy frame --sops 71M --hops 45.4M --claim 50.36uJ --json)
printf '%s' "$out" | grep -q '"total_uj":5963.520000' && ok "71M SOPs, 45.4M hops: 5963.52 uJ" || bad "eq12: $out"
printf '%s' "$out" | grep -q '"sop_uj":1420.000000' && ok "SOP term 1420 uJ" || bad "sop term: $out"
out=$(./spikemesh energy frame --sops 1k --hops 0 --e-sop 0.02nJ --e-static 1mJ --json)
printf '%s' "$out" | grep -q '"sop_uj":0.020000,.*"static_uj":1000.000000' && ok "units: 0.02nJ, 1mJ" || bad "units: $out"
out=$(./spikemesh energy frame --sops 0 --hops 0 energy.static_mode=power energy.p_static_mw=10 --latency 2us --json)
printf '%s' "$out" | grep -q '"static_uj":0.020000' && ok "static power x latency: 10 mW x 2 us = 0.02 uJ" || bad "power: $out"

# Units: a number without one is refused (not read as joules or seconds),
# naming the option and the units; prefixes are case-checked; counts take
# k, M, G only.
refused() { # name expected-text args...: exit 2 and the text on stderr
  n=$1 t=$2; shift 2
  ./spikemesh energy frame "$@" >"$tmp/o" 2>"$tmp/e"; st=$?
  if [ $st = 2 ] && [ ! -s "$tmp/o" ] && grep -q -- "$t" "$tmp/e"; then ok "$n"; else
    bad "$n: exit $st, stdout '$(cat "$tmp/o")', stderr '$(cat "$tmp/e")'"; fi
}
refused "--e-sop 20 refused, naming pJ" "--e-sop '20': no unit.*pJ" --sops 71M --hops 45.4M --e-sop 20
refused "--e-hop 100 refused" "--e-hop '100': no unit.*energy.e_hop_pj=100, which is in pJ" --sops 1 --hops 1 --e-hop 100
refused "--e-static 3.52 refused, naming uJ" "--e-static '3.52': no unit.*uJ" --sops 71M --hops 45.4M --e-static 3.52
refused "--claim 50.36 refused" "--claim '50.36': no unit" --sops 71M --hops 45.4M --claim 50.36
refused "--latency 2 refused" "--latency '2': no unit.*us" --sops 1 --hops 1 energy.static_mode=power --latency 2
refused "--sops 71m refused (milli)" "--sops '71m'.*k, M or G.*no 'm'" --sops 71m --hops 1
refused "--hops 3K refused" "--hops '3K'" --sops 1 --hops 3K
refused "--sops 1T refused" "--sops '1T'" --sops 1T --hops 1
refused "--e-sop 3MJ refused (M is mega)" "--e-sop '3MJ'.*mJ" --sops 1 --hops 1 --e-sop 3MJ
refused "--latency 2Us refused" "--latency '2Us'" --sops 1 --hops 1 energy.static_mode=power --latency 2Us
out=$(./spikemesh energy frame --sops 71M --hops 45.4M --e-sop 20fJ --e-static 0 --json)
printf '%s' "$out" | grep -q '"sop_uj":1.420000,.*"static_uj":0.000000' && ok "20fJ; a bare 0 is taken" || bad "fJ, 0: $out"
out=$(./spikemesh energy frame --sops 2G --hops 0 --e-sop 1mJ --e-static 0 --json)
printf '%s' "$out" | grep -q '"sop_uj":2000000000000.000000' && ok "2G x 1mJ" || bad "G, mJ: $out"
./spikemesh energy frame --help > "$tmp/h"
for o in "--e-sop E .*with unit" "(as energy.e_sop_pj, in pJ)" "(as energy.e_hop_pj, in pJ)" \
  "(as energy.e_static_uj, in uJ" "--latency T .*with unit" "prefixes k, M, G"; do
  grep -q -- "$o" "$tmp/h" || bad "--help says '$o'"
done

# Errors.
./spikemesh energy frame --sops 71M 2>"$tmp/e" >/dev/null; [ $? = 2 ] && grep -q "required" "$tmp/e" && ok "missing --hops" || bad "missing --hops"
./spikemesh energy frame --sops 7x --hops 1 2>"$tmp/e" >/dev/null; [ $? = 2 ] && grep -q "'7x'" "$tmp/e" && ok "bad count" || bad "bad count"
./spikemesh energy frame --sops 1 --hops 1 --e-sop 20pW 2>"$tmp/e" >/dev/null; [ $? = 2 ] && grep -q "unit" "$tmp/e" && ok "wrong unit" || bad "wrong unit"
./spikemesh energy frame --sops 1 --hops 1 energy.static_mode=power 2>"$tmp/e" >/dev/null; [ $? = 2 ] && grep -q "latency" "$tmp/e" && ok "power needs latency" || bad "power needs latency"
./spikemesh energy frame --sops 1 --hops 1 --arch nosuch 2>"$tmp/e" >/dev/null; [ $? = 2 ] && ok "unknown preset" || bad "unknown preset: $(cat "$tmp/e")"
printf '{"architectures": [], "rows": [{"coding": "x", "time_steps": "many", "spikes_1e6": 1}]}' > "$tmp/t.json"
./spikemesh energy theory --table "$tmp/t.json" 2>"$tmp/e" >/dev/null; [ $? = 2 ] && grep -q "rows\[0\]: 'time_steps' must be a number" "$tmp/e" && ok "bad table field named" || bad "bad table: $(cat "$tmp/e")"
./spikemesh energy theory --baseline nothing 2>"$tmp/e" >/dev/null; [ $? = 2 ] && grep -q "baseline row 'nothing' not found" "$tmp/e" && ok "unknown baseline" || bad "unknown baseline"
./spikemesh energy theory --arch broken 2>"$tmp/e" >/dev/null; [ $? = 2 ] && ok "bad --arch" || bad "bad --arch"
# Eq. 12 over a recorded run: recomputed from the recorded counts with the
# run's own coefficients, the per-frame terms and their sum must equal what
# the run recorded; a database whose energy was tampered with is caught.
if ./spikemesh run --frames 20 --db "$tmp/e.db" --quiet >/dev/null 2>&1; then
  out=$(./spikemesh energy frame --db "$tmp/e.db" --json)
  rec=$(printf '%s' "$out" | sed -E 's/.*"recorded_sum_uj":([0-9.]+).*/\1/')
  sum=$(printf '%s' "$out" | sed -E 's/.*"sum_uj":([0-9.]+).*/\1/')
  sql=$(sqlite3 "$tmp/e.db" "SELECT printf('%.6f', sum(e_total_pj) * 1e-6) FROM frames")
  [ "$rec" = "$sum" ] && [ "$sum" = "$sql" ] && ok "energy frame --db: recomputed sum $sum uJ = recorded = SQL sum" ||
    bad "energy frame --db: recomputed $sum, recorded $rec, SQL $sql"
  mean=$(printf '%s' "$out" | sed -E 's/.*"mean_total_uj":([0-9.]+).*/\1/')
  sqlm=$(sqlite3 "$tmp/e.db" "SELECT printf('%.6f', avg(e_total_pj) * 1e-6) FROM frames")
  [ "$mean" = "$sqlm" ] && ok "mean per frame $mean uJ" || bad "mean $mean vs $sqlm"
  # --claim with --db: compared with the run's mean recomputed per frame
  out=$(./spikemesh energy frame --db "$tmp/e.db" --claim 5uJ --json)
  ratio=$(printf '%s' "$out" | sed -nE 's/.*"claim_uj":5.000000,"ratio":([0-9.]+)}$/\1/p')
  want=$(awk -v m="$mean" 'BEGIN { printf "%.6f", m / 5 }')
  [ -n "$ratio" ] && [ "$ratio" = "$want" ] && ok "--db --claim 5uJ: ratio $ratio = mean / claim" ||
    bad "--db --claim: ratio '$ratio', want $want: $out"
  ./spikemesh energy frame --db "$tmp/e.db" --claim 5uJ | grep -q "claimed per frame: 5.0000 uJ  (computed / claimed = " &&
    ok "--db --claim printed" || bad "--db --claim text"
  ./spikemesh energy frame --db "$tmp/e.db" --e-hop 1nJ --claim 5uJ --json | grep -q '"coefficients":"given".*"claim_uj":5.000000' &&
    ok "--db --claim with a what-if" || bad "--db --claim what-if"
  ./spikemesh energy frame --db "$tmp/e.db:1" --per-frame | grep -q "^ *19 " && ok "per-frame lines" || bad "per-frame lines"
  sqlite3 "$tmp/e.db" "UPDATE frames SET e_total_pj = e_total_pj + 1000 WHERE frame = 3"
  ./spikemesh energy frame --db "$tmp/e.db" >/dev/null 2>"$tmp/e"; [ $? = 1 ] && grep -q "differ from Eq. 12" "$tmp/e" &&
    ok "tampered energy caught" || bad "tampered energy: $(cat "$tmp/e")"
  ./spikemesh energy frame --db "$tmp/e.db" --e-hop 1nJ --json | grep -q '"coefficients":"given"' && ok "what-if coefficients" || bad "what-if"
  # A replay has no cores: its frames carry no SOPs (label -1, no
  # prediction).  Its SOP term is n/a, not 0; no accuracy is printed; a
  # claim, being a frame's total, is refused.
  if ./spikemesh run --frames 4 --db "$tmp/s.db" --detail spike --quiet >/dev/null 2>&1 &&
     ./spikemesh replay --from-db "$tmp/s.db" --db "$tmp/rp.db" >/dev/null 2>&1; then
    out=$(./spikemesh energy frame --db "$tmp/rp.db")
    printf '%s' "$out" | grep -q "mean per frame: SOP n/a + hop " && ! printf '%s' "$out" | grep -qi "SOP 0.0000\|accuracy" &&
      printf '%s' "$out" | grep -q "a replay: no cores" && ok "replay: SOP term n/a" || bad "replay text: $out"
    out=$(./spikemesh energy frame --db "$tmp/rp.db" --json)
    printf '%s' "$out" | grep -q '"kind":"replay",.*"mean_sop_uj":null,' && ok "replay: JSON mean_sop_uj null" || bad "replay JSON: $out"
    ./spikemesh energy frame --db "$tmp/rp.db" --per-frame | awk 'NR > 1 && NF == 8 && ($2 != "n/a" || $5 != "n/a") { b = 1 } END { exit b }' &&
      ok "replay: per-frame SOPs n/a" || bad "replay per-frame"
    ./spikemesh energy frame --db "$tmp/rp.db" --claim 3uJ >/dev/null 2>"$tmp/e"; [ $? = 2 ] && grep -q "is a replay" "$tmp/e" &&
      ok "replay: --claim refused" || bad "replay --claim: $(cat "$tmp/e")"
    ./spikemesh energy frame --db "$tmp/s.db" --json | grep -q '"kind":"run",.*"mean_sop_uj":[0-9]' && ok "a run keeps its SOP term" || bad "run SOP term"
  else
    bad "run and replay for the replay check"
  fi
else
  bad "run --db for the energy check"
fi
./spikemesh energy frame --db "$tmp/none.db" 2>"$tmp/e" >/dev/null; [ $? = 2 ] && ok "missing database" || bad "missing database: $(cat "$tmp/e")"
./spikemesh energy frame --db "$tmp/e.db:99" 2>"$tmp/e" >/dev/null; [ $? = 2 ] && grep -q "run 99 has no recorded frames" "$tmp/e" && ok "unknown run" || bad "unknown run: $(cat "$tmp/e")"
./spikemesh energy frame --db "$tmp/e.db" --sops 1 2>"$tmp/e" >/dev/null; [ $? = 2 ] && ok "--db with --sops refused" || bad "--db with --sops"
./spikemesh energy frame --db "$tmp/e.db" --latency 2us 2>"$tmp/e" >/dev/null; [ $? = 2 ] && grep -q "latencies from the run" "$tmp/e" && ok "--db with --latency refused" || bad "--db with --latency"
./spikemesh energy frame --sops 1 --hops 1 --claim 0 2>"$tmp/e" >/dev/null; [ $? = 2 ] && ok "--claim 0 refused" || bad "--claim 0"
# every database this test recorded passes the audit (spikemesh db check)
for f in "$tmp"/*.db; do
  case $(basename "$f") in e.db) continue ;; esac  # made up or tampered on purpose
  [ -f "$f" ] || continue
  ./spikemesh db check "$f" > "$tmp/audit.out" 2>&1 ||
    bad "db check $(basename "$f"): $(grep -v '^  ok' "$tmp/audit.out" | head -5)"
done
exit $fail
