#!/bin/sh
# Static energy that scales with the chip (energy.static_mode=chip):
# E_static = (cores used x p_core_mw + mesh routers x p_router_mw) x frame
# latency.  Each recorded frame's static term is recomputed here from the
# preset file's figures, the cores the mapping printed and the recorded
# latency; more cores and a bigger mesh cost more; `energy frame --db` and
# `db check` recompute it, and db check catches a tampered term.
# Needs the sqlite3 shell and the Fashion-MNIST test set (skipped without).
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 shell"; exit 77; }
data=/usr/share/datasets/fashion-mnist
[ -e "$data/t10k-labels-idx1-ubyte.gz" ] || [ -e "$data/t10k-labels-idx1-ubyte" ] ||
  { echo "skip: no $data"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
q() { sqlite3 "$1" "$2"; }

# the preset's own figures, read from its file
preset=$srcdir/models/arch/paper-22nm-chip.json
num() { sed -n "s/.*\"$1\": *\([0-9.e+-]*\).*/\1/p" "$preset"; }
pc=$(num p_core_mw) pr=$(num p_router_mw)
[ -n "$pc" ] && [ -n "$pr" ] && grep -q '"static_mode": "chip"' "$preset" &&
  ok "paper-22nm-chip: chip mode, $pc mW per core, $pr mW per router" || bad "preset figures: '$pc' '$pr'"
grep -q '"static_mode": "per_frame"' "$srcdir/models/arch/paper-22nm.json" &&
  ok "paper-22nm keeps the paper's per-frame reading" || bad "paper-22nm static mode"

# run RUN NAME ARGS...: a recorded run; its cores as the mapping line says
run() {
  name=$1
  shift
  ./spikemesh run --frames 5 --arch paper-22nm-chip --db "$tmp/$name.db" "$@" > "$tmp/$name.out" ||
    { bad "run $name"; return; }
  sed -n 's/^mapping: \([0-9]*\) cores on a \([0-9]*\)x\([0-9]*\) mesh.*/\1 \2 \3/p' "$tmp/$name.out" > "$tmp/$name.chip"
}
# static RUN: frames whose e_static_pj differs from the recomputation
# (pJ: mW x ps x 1e-3), from the printed cores and mesh
wrong() {
  read -r c w h < "$tmp/$1.chip"
  q "$tmp/$1.db" "SELECT count(*) FROM frames WHERE abs(e_static_pj - ($c * $pc + $w * $h * $pr) * latency_ps * 1e-3) > 1e-9 * e_static_pj OR e_static_pj <= 0"
}
power() { # the static power of a run, mW: e_static / latency
  q "$tmp/$1.db" "SELECT printf('%.9f', avg(e_static_pj / latency_ps * 1e3)) FROM frames"
}
run base --detail link
run mesh6 --mesh 6x6
run cores --detail link core.sram_bytes=200000 map.sram_fit=split
for r in base mesh6 cores; do
  [ "$(wrong $r)" = 0 ] && ok "$r ($(cat "$tmp/$r.chip")): every frame's E_static = (cores x $pc + routers x $pr) mW x latency" ||
    bad "$r: $(wrong $r) frames off"
done
[ "$(cat "$tmp/base.chip")" = "3 2 2" ] && [ "$(cat "$tmp/mesh6.chip")" = "3 6 6" ] &&
  [ "$(sed 's/ .*//' "$tmp/cores.chip")" -gt 3 ] && ok "the chips differ as asked" ||
  bad "chips: $(cat "$tmp/base.chip") / $(cat "$tmp/mesh6.chip") / $(cat "$tmp/cores.chip")"
# the static power differs by exactly what the chip adds
d=$(awk -v a="$(power mesh6)" -v b="$(power base)" -v pr="$pr" 'BEGIN { d = a - b - 32 * pr; print (d < 1e-6 && d > -1e-6) ? "ok" : d }')
[ "$d" = ok ] && ok "a 6x6 mesh costs 32 routers more static power than 2x2" || bad "6x6 vs 2x2: off by $d mW"
read -r cc cw ch < "$tmp/cores.chip"
d=$(awk -v a="$(power cores)" -v b="$(power base)" -v pc="$pc" -v pr="$pr" -v n="$cc" -v w="$cw" -v h="$ch" \
  'BEGIN { d = a - b - (n - 3) * pc - (w * h - 4) * pr; print (d < 1e-6 && d > -1e-6) ? "ok" : d }')
[ "$d" = ok ] && ok "$cc cores on ${cw}x$ch cost their extra cores and routers" || bad "more cores: off by $d mW"
e1=$(q "$tmp/base.db" "SELECT sum(e_static_pj) FROM frames") e2=$(q "$tmp/mesh6.db" "SELECT sum(e_static_pj) FROM frames")
awk -v a="$e1" -v b="$e2" 'BEGIN { exit !(b > a) }' && ok "a bigger mesh costs more static energy ($e2 > $e1 pJ)" ||
  bad "static energy: 6x6 $e2 pJ, 2x2 $e1 pJ"
# the paper's per-frame reading of the same chip: 3.52 uJ whatever its size
./spikemesh run --frames 5 --arch paper-22nm --mesh 6x6 --db "$tmp/flat.db" >/dev/null
[ "$(q "$tmp/flat.db" "SELECT count(*) FROM frames WHERE e_static_pj != 3520000")" = 0 ] &&
  ok "paper-22nm: 3.52 uJ per frame on 6x6 too" || bad "per-frame static"

# the configuration carries what the recomputation needs
[ "$(q "$tmp/cores.db" "SELECT json_extract(config, '\$.\"run.cores\"') || ' ' || json_extract(config, '\$.\"noc.width\"') || ' ' || json_extract(config, '\$.\"noc.height\"') || ' ' || json_extract(config, '\$.\"energy.static_mode\"') FROM runs")" = \
  "$cc $cw $ch chip" ] && ok "config: run.cores, noc.width, noc.height, static_mode" || bad "config keys"

# energy frame --db and db check recompute it
for r in base mesh6 cores; do
  ./spikemesh energy frame --db "$tmp/$r.db" > "$tmp/e.out" 2>&1 &&
    grep -q "static: chip" "$tmp/e.out" && ok "energy frame --db agrees on $r" || bad "energy frame $r: $(cat "$tmp/e.out")"
  out=$(./spikemesh db check "$tmp/$r.db" 2>&1) && echo "$out" | grep -q "^0 violations" &&
    ok "db check $r: 0 violations" || bad "db check $r: $(echo "$out" | grep -v '^  ok' | head -5)"
done
tamper() { # tamper NAME PATTERN SQL
  cp "$tmp/base.db" "$tmp/t.db"
  sqlite3 "$tmp/t.db" "$3"
  out=$(./spikemesh db check "$tmp/t.db" 2>&1); st=$?
  [ $st = 1 ] && echo "$out" | grep -q "FAIL  $2" && ok "db check catches $1" ||
    bad "db check missed $1: exit $st: $(echo "$out" | grep -v '^  ok' | head -5)"
}
tamper "a tampered chip E_static" "Eq. 12: E_static" \
  "UPDATE frames SET e_static_pj = e_static_pj * 1.01, e_total_pj = e_sop_pj + e_hop_pj + e_static_pj * 1.01 WHERE frame = 2"
tamper "a flat 3.52 uJ in chip mode" "Eq. 12: E_static" \
  "UPDATE frames SET e_static_pj = 3520000, e_total_pj = e_sop_pj + e_hop_pj + 3520000"
tamper "run.cores changed in the configuration" "cores rows" \
  "UPDATE runs SET config = json_set(config, '\$.\"run.cores\"', 4)"
tamper "a configuration mesh that is not the row's" "Eq. 12 (chip)" \
  "UPDATE runs SET config = json_set(config, '\$.\"run.mesh_width\"', 3)"
tamper "no run.cores" "Eq. 12 (chip)" "UPDATE runs SET config = json_remove(config, '\$.\"run.cores\"')"
cp "$tmp/base.db" "$tmp/t.db"
sqlite3 "$tmp/t.db" "UPDATE frames SET e_static_pj = e_static_pj * 2, e_total_pj = e_sop_pj + e_hop_pj + e_static_pj * 2"
./spikemesh energy frame --db "$tmp/t.db" > /dev/null 2>&1; [ $? = 1 ] &&
  ok "energy frame --db fails on a tampered static term" || bad "energy frame tampered"

# what-if: a per-frame run recharged in chip mode from its own cores and mesh
./spikemesh run --frames 5 --db "$tmp/pf.db" > /dev/null
./spikemesh energy frame --db "$tmp/pf.db" --arch paper-22nm-chip --json > "$tmp/w.json" || bad "what-if"
want=$(q "$tmp/pf.db" "SELECT printf('%.6f', avg((3 * $pc + 4 * $pr) * latency_ps * 1e-9)) FROM frames")
grep -q "\"mean_static_uj\":$want" "$tmp/w.json" && grep -q '"cores":3,"routers":4' "$tmp/w.json" &&
  ok "what-if chip over a per-frame run: $want uJ per frame" || bad "what-if: want $want: $(cat "$tmp/w.json")"
# an older run, without run.cores, cannot be recharged in chip mode
sqlite3 "$tmp/pf.db" "UPDATE runs SET config = json_remove(config, '\$.\"run.cores\"')"
./spikemesh energy frame --db "$tmp/pf.db" --arch paper-22nm-chip > /dev/null 2> "$tmp/e"; st=$?
[ $st = 2 ] && grep -q "energy.static_mode=chip needs the cores and the mesh" "$tmp/e" &&
  ok "chip what-if without run.cores refused" || bad "old run: exit $st: $(cat "$tmp/e")"

# a replay of a packet trace brings no cores: its routers alone
./spikemesh run --frames 5 --db "$tmp/sp.db" --detail spike > /dev/null &&
  ./spikemesh trace export --db "$tmp/sp.db" --kind packet -o "$tmp/p.trace" > /dev/null &&
  ./spikemesh replay --trace "$tmp/p.trace" --arch paper-22nm-chip --mesh 3x3 --db "$tmp/rp.db" \
    --detail summary > /dev/null ||
  bad "packet replay"
[ "$(q "$tmp/rp.db" "SELECT json_extract(config, '\$.\"run.cores\"') || ' ' || count(*) FROM frames, runs WHERE abs(e_static_pj - 9 * $pr * latency_ps * 1e-3) <= 1e-9 * e_static_pj")" = "0 5" ] &&
  ok "packet replay: 0 cores, 9 routers x $pr mW x latency" || bad "packet replay static"
./spikemesh db check "$tmp/rp.db" | grep -q "^0 violations" && ok "db check of the replay" || bad "db check replay"

# energy frame from counts
out=$(./spikemesh energy frame --sops 0 --hops 0 energy.static_mode=chip energy.p_core_mw=1 \
  energy.p_router_mw=0.5 --cores 3 --routers 4 --latency 10us --json)
printf '%s' "$out" | grep -q '"static_uj":0.050000' && ok "(3 x 1 + 4 x 0.5) mW x 10 us = 0.05 uJ" || bad "counts: $out"
refusedf() { # refusedf NAME PATTERN ARGS...
  n=$1 p=$2
  shift 2
  ./spikemesh energy frame "$@" > /dev/null 2> "$tmp/e"; st=$?
  [ $st = 2 ] && grep -q -- "$p" "$tmp/e" && ok "$n" || bad "$n: exit $st: $(cat "$tmp/e")"
}
refusedf "chip needs --cores and --routers" "needs --cores N" --sops 1 --hops 1 energy.static_mode=chip --latency 1us
refusedf "chip needs --latency" "chip needs --latency" --sops 1 --hops 1 energy.static_mode=chip --cores 1 --routers 1
refusedf "--cores is a whole count" "--cores and --routers: expected whole counts" --sops 1 --hops 1 --cores 1.5
refusedf "--routers is a count" "--routers 'x'" --sops 1 --hops 1 --routers x
refusedf "--cores with --db" "no --sops, --hops, --latency, --cores" --db "$tmp/base.db" --cores 3
refusedf "a negative leakage" "energy.p_router_mw" --sops 1 --hops 1 energy.p_router_mw=-1

exit $fail
