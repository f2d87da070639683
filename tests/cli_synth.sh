#!/bin/sh
# spikemesh synth: clear errors for bad arguments; a small synthetic model
# is written, loads, and runs on synthetic inputs; bench vgg has help.
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
check "synth help" 0 "--sparsity" -- ./spikemesh synth --help
check "no --out" 2 "no --out FILE" -- ./spikemesh synth --arch vgg11
check "--out without a file" 2 "--out needs a file name" -- ./spikemesh synth --out
check "unknown architecture" 2 "synth.arch" -- ./spikemesh synth --arch vgg19 --out "$tmp/m.json"
check "sparsity out of range" 2 "synth.sparsity" -- ./spikemesh synth --sparsity 1.5 --out "$tmp/m.json"
check "sparsity not a number" 2 "synth.sparsity" -- ./spikemesh synth --sparsity lots --out "$tmp/m.json"
check "seed without a value" 2 "--seed needs a value" -- ./spikemesh synth --out "$tmp/m.json" --seed
check "zero calibration images" 2 "synth.calib_images" -- ./spikemesh synth --calib 0 --out "$tmp/m.json"
check "unknown option" 2 "unknown option '--fast'" -- ./spikemesh synth --fast --out "$tmp/m.json"
check "unknown key" 2 "synth.nope" -- ./spikemesh synth synth.nope=1 --out "$tmp/m.json"
check "unwritable output" 1 "cannot write" -- ./spikemesh synth --arch vgg11 --width-div 16 --calib 1 --out "$tmp/no/such/dir/m.json"
[ -e "$tmp/m.json" ] && { echo "FAIL: a refused command wrote a file"; fail=1; }
check "small VGG11 written" 0 "spikes per neuron" -- ./spikemesh synth --arch vgg11 --width-div 16 --calib 1 --out "$tmp/m.json"
check "it runs on synthetic inputs" 0 "energy per frame" -- ./spikemesh run --model "$tmp/m.json" --data synthetic:3 --frames 1 --quiet
check "bad synthetic seed" 2 "synthetic:SEED" -- ./spikemesh run --model "$tmp/m.json" --data synthetic:abc --frames 1 --quiet
check "too many synthetic frames" 2 "at most 100000" -- ./spikemesh run --model "$tmp/m.json" --data synthetic:1 --frames 1000000000 --quiet
check "bench vgg help" 0 "binary heap" -- ./spikemesh bench vgg --help
check "bench vgg bad frames" 2 "--frames" -- ./spikemesh bench vgg --frames 0
exit $fail
