#!/bin/sh
# Any core size from the command line: the CNN at 256 neurons per core and
# the MLP at 64 run, their databases pass `db check`, and they record the
# same spikes (frame, layer, neuron, step), predictions and SOPs as the
# default 1024-neuron mapping, with no spike time moved by the network; the
# 1024 run's spikes replayed at 256 cost the 256 run's hops.
# A core too small for a pooling window is refused with the smallest legal
# size, which then runs.
set -u
fail=0
say() { echo "$1: $2"; [ "$1" = FAIL ] && fail=1; }
mlp="$srcdir/models/fmnist-mlp.json" cnn="$srcdir/models/fmnist-cnn.json"
[ -r "$mlp" ] && [ -r "$cnn" ] || { echo "no shipped models: skipped"; exit 77; }
command -v sqlite3 >/dev/null || { echo "no sqlite3: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
frames=4

# run NAME MODEL NPC: a recorded run at spike detail on synthetic images
run() {
  out=$(./spikemesh run --model "$2" --data synthetic:5 --frames $frames \
        --db "$tmp/$1.db" --detail spike core.neurons_per_core=$3 2>&1)
  rc=$?
  if [ $rc != 0 ]; then
    say FAIL "$1: exit $rc"; echo "$out" | head -5; return 1
  fi
  printf '%s\n' "$out" > "$tmp/$1.out"
  cores=$(printf '%s\n' "$out" | sed -n 's/^mapping: \([0-9]*\) cores.*/\1/p')
  say ok "$1 ran on $cores cores"
  if grep -q "^timing: .* 0 frames where arrival timing changed" "$tmp/$1.out"
  then say ok "$1: no spike time moved by arrivals"
  else say FAIL "$1: arrival timing changed spike times"; grep timing "$tmp/$1.out"
  fi
  if ./spikemesh db check "$tmp/$1.db" > "$tmp/$1.check" 2>&1
  then say ok "$1: db check"
  else say FAIL "$1: db check"; tail -5 "$tmp/$1.check"
  fi
}

q() { sqlite3 -batch -noheader "$1" "$2"; }

# same NAME REF: spikes, predictions and SOPs equal
same() {
  for what in "SELECT frame, layer, neuron, step FROM spikes ORDER BY 1, 2, 3" \
              "SELECT frame, prediction, sops, spikes, input_spikes FROM frames ORDER BY 1"
  do
    q "$tmp/$1.db" "$what" > "$tmp/a"
    q "$tmp/$2.db" "$what" > "$tmp/b"
    n=$(wc -l < "$tmp/a")
    if [ "$n" -ge $frames ] && cmp -s "$tmp/a" "$tmp/b"
    then say ok "$1 = $2: $n rows of '$what'"
    else say FAIL "$1 differs from $2 ($n rows): $what"; diff "$tmp/a" "$tmp/b" | head -5
    fi
  done
  # the cores hold every neuron once, in more, smaller cores
  nn=$(q "$tmp/$1.db" "SELECT sum(neurons) FROM cores WHERE frame = 0")
  mm=$(q "$tmp/$2.db" "SELECT sum(neurons) FROM cores WHERE frame = 0")
  big=$(q "$tmp/$1.db" "SELECT max(neurons) FROM cores")
  c1=$(q "$tmp/$1.db" "SELECT count(*) FROM cores WHERE frame = 0")
  c2=$(q "$tmp/$2.db" "SELECT count(*) FROM cores WHERE frame = 0")
  if [ -n "$nn" ] && [ "$nn" = "$mm" ] && [ "$big" -le "$3" ] && [ "$c1" -gt "$c2" ]
  then say ok "$1: $c1 cores of at most $big neurons hold the $nn of $2's $c2"
  else say FAIL "$1: cores hold $nn neurons (at most $big each, $c1 cores), $2 $mm ($c2)"
  fi
}

run cnn1024 "$cnn" 1024
run cnn256 "$cnn" 256
same cnn256 cnn1024 256
run mlp1024 "$mlp" 1024
run mlp64 "$mlp" 64
same mlp64 mlp1024 64

# the 1024 run's spikes replayed through the 256 mapping: each spike goes
# from the core holding its neuron (found by position in the tiles) to the
# cores it reaches, so the hops are the 256 run's, frame by frame
if ./spikemesh replay --from-db "$tmp/cnn1024.db" --db "$tmp/replay.db" \
     core.neurons_per_core=256 > "$tmp/replay.out" 2>&1 &&
   ./spikemesh db check "$tmp/replay.db" > /dev/null 2>&1; then
  q "$tmp/replay.db" "SELECT frame, hops FROM frames ORDER BY 1" > "$tmp/a"
  q "$tmp/cnn256.db" "SELECT frame, hops FROM frames ORDER BY 1" > "$tmp/b"
  if [ "$(wc -l < "$tmp/a")" = $frames ] && cmp -s "$tmp/a" "$tmp/b"
  then say ok "replay at 256: the 256 run's hops ($(tr '\n' ' ' < "$tmp/a"))"
  else say FAIL "replay at 256: hops differ"; diff "$tmp/a" "$tmp/b" | head -5
  fi
  # the replay records the mapping it went through: the 256 run's
  m="SELECT grp, layer, c0, c1, y0, y1, x0, x1, node, neurons FROM mapping ORDER BY grp"
  q "$tmp/replay.db" "$m" > "$tmp/a"
  q "$tmp/cnn256.db" "$m" > "$tmp/b"
  if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b"
  then say ok "replay at 256: its mapping rows are the 256 run's ($(wc -l < "$tmp/a") groups)"
  else say FAIL "replay at 256: mapping rows differ from the 256 run's"
  fi
else
  say FAIL "replay at 256 (or its db check)"; tail -3 "$tmp/replay.out"
fi

# a 2x2 pooling window cannot be split: 3 is refused naming 4
out=$(./spikemesh run --model "$cnn" --data synthetic:5 --frames 1 \
      core.neurons_per_core=3 2>&1); rc=$?
if [ $rc = 2 ] && printf '%s' "$out" | grep -q \
   "pooling window cannot be split across cores.*smallest legal core.neurons_per_core for this model (mesh at most 64x64) is 4"
then say ok "3 neurons per core refused, naming 4"
else say FAIL "3 neurons per core: exit $rc"; echo "$out" | head -3
fi
if ./spikemesh run --model "$cnn" --data synthetic:5 --frames 1 \
   core.neurons_per_core=4 > "$tmp/four" 2>&1
then say ok "4 neurons per core run ($(sed -n 's/^mapping: \([0-9]*\) cores.*/\1/p' "$tmp/four") cores)"
else say FAIL "4 neurons per core"; head -3 "$tmp/four"
fi
# a mesh too small names the smallest size that fits it, which fits
out=$(./spikemesh run --model "$cnn" --data synthetic:5 --frames 1 --mesh 6x6 \
      core.neurons_per_core=256 2>&1); rc=$?
lo=$(printf '%s' "$out" | sed -n 's/.*for this model on a 6x6 mesh is \([0-9]*\).*/\1/p')
if [ $rc = 2 ] && [ -n "$lo" ] &&
   ./spikemesh run --model "$cnn" --data synthetic:5 --frames 1 --mesh 6x6 \
     --quiet core.neurons_per_core=$lo > /dev/null 2>&1 &&
   ! ./spikemesh run --model "$cnn" --data synthetic:5 --frames 1 --mesh 6x6 \
     --quiet core.neurons_per_core=$((lo - 1)) > /dev/null 2>&1
then say ok "a 6x6 mesh: 256 refused naming $lo, which runs ($((lo - 1)) does not)"
else say FAIL "a 6x6 mesh: exit $rc, smallest '$lo'"; echo "$out" | head -3
fi
exit $fail
