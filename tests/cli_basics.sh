#!/bin/sh
# The program's surface: help, version, exit codes, and clear errors for
# bad command lines and configuration.
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
check "top-level help" 0 "Commands:" -- ./spikemesh --help
check "no arguments is a usage error" 2 "Usage:" -- ./spikemesh
check "version" 0 "spikemesh " -- ./spikemesh --version
check "unknown command" 2 "unknown command 'frobnicate'" -- ./spikemesh frobnicate
check "help for a command" 0 "hold model" -- ./spikemesh help bench
check "bench help" 0 "kernel" -- ./spikemesh bench --help
check "bench kernel help" 0 "--pending" -- ./spikemesh bench kernel --help
check "unknown benchmark" 2 "unknown benchmark" -- ./spikemesh bench nothing
check "bad pending count" 2 "--pending" -- ./spikemesh bench kernel --pending 0
check "bad queue name" 2 "unknown queue 'splay'" -- ./spikemesh bench kernel --queues splay
check "bench kernel runs" 0 "wheel" -- ./spikemesh bench kernel --pending 1000 --min-seconds 0.01
check "config defaults" 0 '"sim.queue": "wheel"' -- ./spikemesh config
check "config override" 0 '"sim.seed": 7' -- ./spikemesh config sim.seed=7
check "config unknown key" 2 "unknown key 'sim.sed'" -- ./spikemesh config sim.sed=7
check "config out of range" 2 "out of range" -- ./spikemesh config sim.seed=-1
check "config bad choice" 2 "expected one of: wheel,heap4,binary" -- ./spikemesh config sim.queue=fast
printf '{"sim": {"queue": "heap4", "bogus": 1}}' > "$tmp/bad.json"
check "config file unknown key names file and key" 2 "bad.json: unknown key 'sim.bogus'" -- ./spikemesh config "$tmp/bad.json"
printf '{"sim": {"queue": 3}}' > "$tmp/type.json"
check "config file wrong type" 2 "wrong JSON type" -- ./spikemesh config "$tmp/type.json"
printf '{"sim": ' > "$tmp/trunc.json"
check "config file truncated" 2 "invalid JSON" -- ./spikemesh config "$tmp/trunc.json"
check "config file missing" 2 "cannot open" -- ./spikemesh config "$tmp/none.json"
printf '{"sim": {"queue": "heap4"}}' > "$tmp/good.json"
check "config file then override" 0 '"sim.queue": "binary"' -- ./spikemesh config "$tmp/good.json" sim.queue=binary
check "train: shift out of range" 2 "'train.shift': value 9 is out of range.*\[0, 8\] pixels" -- \
  ./spikemesh train train.shift=9
check "train: unknown QAT scale rule" 2 "'train.qat_scale': unknown value 'best', expected one of: refresh,fixed,search" -- \
  ./spikemesh train train.qat_scale=best
check "train: negative silent push" 2 "'train.silent_push'.*out of range" -- \
  ./spikemesh train train.silent_push=-1
check "train: calibration set of 0 images" 2 "'train.calib'.*out of range" -- \
  ./spikemesh train train.calib=0
# the flags commands share (cli/common.c): each command that takes one
# refuses a bad value the same way
check "noc: bad --detail" 2 "noc: --detail 'bogus': expected one of" -- ./spikemesh noc --detail bogus
check "noc: unknown key names it" 2 "unknown key 'sim.sed'" -- ./spikemesh noc sim.sed=1
check "noc: --resume needs --db" 2 "noc: --resume needs --db FILE" -- ./spikemesh noc --resume
check "noc: unknown option" 2 "noc: unknown option '--frob'" -- ./spikemesh noc --frob
check "noc: a small sweep" 0 "not saturated up to offered 0.1" -- ./spikemesh noc traffic.rates=0.05,0.1 noc.width=3 noc.height=3
check "energy frame: unknown key names it" 2 "unknown key 'energy.bogus'" -- ./spikemesh energy frame --sops 1 --hops 1 energy.bogus=1
check "energy frame: unknown preset" 2 "preset 'nosuch' not found" -- ./spikemesh energy frame --sops 1 --hops 1 --arch nosuch
check "energy frame: a preset file and an override" 0 "E_SOP    x SOPs  =        3 pJ" -- ./spikemesh energy frame --sops 1M --hops 1 --arch "$srcdir/models/arch/paper-22nm.json" energy.e_sop_pj=3
check "energy frame: --db of no database" 2 "none.db: no such database file" -- ./spikemesh energy frame --db "$tmp/none.db"
check "trace export: needs --db and -o" 2 "export needs --db FILE and -o OUT" -- ./spikemesh trace export -o "$tmp/x.smt"
check "trace export: --db of no database" 2 "none.db: no such database file" -- ./spikemesh trace export --db "$tmp/none.db" -o "$tmp/x.smt"
check "trace export: bad --kind" 2 "--kind 'flit': expected spike or packet" -- ./spikemesh trace export --db "$tmp/none.db" --kind flit -o "$tmp/x.smt"
check "config: key=value after the file whatever the order" 0 '"sim.queue": "binary"' -- ./spikemesh config sim.queue=binary "$tmp/good.json"
check "config: bad key=value before a file names the key" 2 "unknown key 'sim.sed'" -- ./spikemesh config sim.sed=1 "$tmp/good.json"
check "train: unknown key names it" 2 "unknown key 'train.bogus'" -- ./spikemesh train train.bogus=1
check "train: unknown option" 2 "train: unknown option '--frob'" -- ./spikemesh train --frob
check "train: --eval needs a file" 2 "--eval needs a model file" -- ./spikemesh train --eval
check "synth: unknown key names it" 2 "unknown key 'synth.nope'" -- ./spikemesh synth synth.nope=1 --out "$tmp/m.json"
check "synth: a shortcut wins over key=value" 2 "'synth.sparsity'.*out of range" -- ./spikemesh synth --sparsity 1.5 synth.sparsity=0.3 --out "$tmp/m.json"
check "bench noc: unknown key names it" 2 "unknown key 'noc.bogus'" -- ./spikemesh bench noc noc.bogus=1
check "bench recorder: --frames 0" 2 "bench: --frames '0': expected a count >= 1" -- ./spikemesh bench recorder --frames 0
check "bench vgg: --frames 0" 2 "bench vgg: --frames '0': expected a count >= 1" -- ./spikemesh bench vgg --frames 0
check "bench vgg: --frames above 1000" 2 "bench vgg: --frames '1001': expected 1..1000" -- ./spikemesh bench vgg --frames 1001
check "bench vgg: unknown preset" 2 "preset 'nosuch' not found" -- ./spikemesh bench vgg --arch nosuch
check "bench vgg: unknown key names it" 2 "unknown key 'sim.sed'" -- ./spikemesh bench vgg sim.sed=1
exit $fail
