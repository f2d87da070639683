#!/bin/sh
# doc/config.md must be exactly what `spikemesh config --markdown` prints,
# so the documented options are the ones the program accepts.
set -eu
out=$(mktemp)
trap 'rm -f "$out"' EXIT
./spikemesh config --markdown > "$out"
if ! diff -u "$srcdir/doc/config.md" "$out"; then
  echo "doc/config.md is stale: run 'spikemesh config --markdown > doc/config.md'" >&2
  exit 1
fi
echo "doc/config.md matches the option tables"
