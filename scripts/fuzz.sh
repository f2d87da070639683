#!/bin/sh
# fuzz.sh -- build the fuzz harnesses with libFuzzer (clang) and run each.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     (default 60 s; all harnesses)
#
# Harnesses: tests/fuzz/fuzz_<name>.c.  Seeds: tests/data/fuzz/<name>/ and
# the shipped files.  The working corpus grows in build-fuzz/corpus/<name>/;
# a crash, leak or timeout is written to build-fuzz/crash/<name>/ -- copy it
# into tests/data/fuzz/<name>/ (after fixing the bug) so `make check`
# replays it for ever.  Prints executions per harness at the end.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
all="conf kv model idx trace grid"
harnesses=${*:-$all}
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
[ -x configure ] || autoreconf -fi
mkdir -p build-fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
if [ ! -f build-fuzz/Makefile ]; then
  (cd build-fuzz && ../configure -q CC=clang \
    CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $san" \
    LDFLAGS="$san")
fi
make -C build-fuzz -j2 cli/libsmrun.a traces/libsmtraces.a trainer/libsmtrainer.a \
  models/libsmmodels.a core/libsmcore.a noc/libsmnoc.a sim/libsmsim.a util/libsmutil.a >/dev/null
libs="build-fuzz/cli/libsmrun.a build-fuzz/traces/libsmtraces.a build-fuzz/trainer/libsmtrainer.a
  build-fuzz/models/libsmmodels.a build-fuzz/core/libsmcore.a build-fuzz/noc/libsmnoc.a
  build-fuzz/sim/libsmsim.a build-fuzz/util/libsmutil.a"
ext=$(pkg-config --libs libuv sqlite3 jansson zlib openblas)
cflags="$(pkg-config --cflags libuv sqlite3 jansson zlib openblas) -I. -Ibuild-fuzz -include config.h -D_GNU_SOURCE"
summary=""
for h in $harnesses; do
  src=tests/fuzz/fuzz_$h.c
  [ -f "$src" ] || { echo "fuzz.sh: no harness '$h' (have: $all)" >&2; exit 2; }
  clang -g -O1 -fsanitize=fuzzer $san $cflags -DSM_SRCDIR="\"$PWD\"" \
    -DSM_DATADIR="\"$PWD/models\"" "$src" $libs $ext -lm -o "build-fuzz/fuzz_$h"
  corpus=build-fuzz/corpus/$h crash=build-fuzz/crash/$h
  mkdir -p "$corpus" "$crash"
  seeds=tests/data/fuzz/$h
  case $h in
    conf) extra="models/arch" ;;
    model) extra="" ;; # the shipped models exceed -max_len; seeds are small
    *) extra="" ;;
  esac
  for f in $seeds/* $(for e in $extra; do ls $e/*.json 2>/dev/null; done); do
    [ -f "$f" ] && cp "$f" "$corpus/" 2>/dev/null || true
  done
  log=build-fuzz/$h.log
  echo "fuzz.sh: $h for $secs s"
  set +e
  "build-fuzz/fuzz_$h" "$corpus" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$crash/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  note=""
  if [ "$rc" -ne 0 ]; then note=" -- see $log and $crash/"; fi
  summary="$summary
$h: ${execs:-?} executions in $secs s, exit $rc$note"
done
echo "fuzz.sh: summary:$summary"
