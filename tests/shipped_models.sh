#!/bin/sh
# The shipped models are what their metadata says: `spikemesh train --eval`
# on the Fashion-MNIST test set measures the 4-bit first-spike accuracy
# recorded in the file (metadata.accuracy_quant), and each file records the
# command that made it.  The GEMMs' summation order depends on the BLAS
# thread count and the CPU's kernels and flips the odd neuron sitting on a
# threshold, so the test runs with the file's thread count and allows 0.05
# point (5 of the 10 000 images).
set -u
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "no $data: skipped"; exit 77; }
fail=0
for name in fmnist-mlp fmnist-cnn; do
  m="$srcdir/models/$name.json"
  want=$(python3 -c 'import json,sys; md=json.load(open(sys.argv[1]))["metadata"]; print("%.2f%%" % (100*md["accuracy_quant"]))' "$m" 2>/dev/null) ||
    want=$(sed -n 's/.*"accuracy_quant": *\([0-9.]*\).*/\1/p' "$m" | head -1 |
           awk '{ printf "%.2f%%", 100 * $1 }')
  thr=$(sed -n 's/.*"threads": *\([0-9]*\).*/\1/p' "$m" | head -1)
  out=$(./spikemesh train --eval "$m" train.threads="${thr:-1}" 2>&1); st=$?
  got=$(printf '%s\n' "$out" | sed -n 's/^quantized .*accuracy \([0-9.]*%\).*/\1/p')
  if [ $st != 0 ] || [ -z "$want" ] || [ -z "$got" ] ||
     ! awk -v a="${got%\%}" -v b="${want%\%}" \
       'BEGIN { d = a - b; exit !(d <= 0.05 && d >= -0.05) }'; then
    echo "FAIL: $name: measured '$got', metadata '$want' (exit $st)"
    printf '%s\n' "$out" | head -5; fail=1
  else
    echo "ok: $name: $got at 4 bits, recorded $want"
  fi
  grep -q "\"command\": \"spikemesh train .*train.name=$name" "$m" ||
    { echo "FAIL: $name: no training command in the metadata"; fail=1; }
done
exit $fail
