#!/bin/sh
# fuzz.sh -- build the fuzz harnesses with libFuzzer (clang) and run each.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     (default 60 s; all harnesses)
#
# A developer tool: CI does not fuzz (it replays the saved inputs through
# the same harnesses in `make check`, tests/fuzz_regress.sh), so clang is
# not in scripts/packages.txt.  Install it once, as root:
#
#   apt-get install clang libclang-rt-14-dev
#
# (clang-14 is Debian 12's; libclang-rt-14-dev carries libFuzzer and the
# sanitizer runtimes.)
#
# Harnesses: tests/fuzz/fuzz_<name>.c, one check program each in
# tests/local.mk; each is built here from the same sources minus the replay
# driver (libFuzzer brings its own main) and linked with the same
# libraries (FUZZ_LIBS there), asked of the build-fuzz/ Makefile so this
# script cannot fall behind a library move.  Run one at a time: each
# fuzzer uses one core.
#
# Seeds: tests/data/fuzz/<name>/ and the shipped files.  The working
# corpus grows in build-fuzz/corpus/<name>/; a crash, leak or timeout is
# written to build-fuzz/crash/<name>/ -- minimize it (the fuzzer's
# -minimize_crash=1 on the file) and copy it into tests/data/fuzz/<name>/
# after the fix, so `make check` replays it for ever.  Prints executions
# and coverage per harness at the end; each fuzzer's output stays in
# build-fuzz/<name>.log.
#
# FUZZ_FLAGS adds libFuzzer flags, e.g. FUZZ_FLAGS='-fork=1
# -ignore_crashes=1' to keep fuzzing (in one child process) past a known
# open finding; every crash still lands in build-fuzz/crash/<name>/.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
command -v clang >/dev/null || {
  echo "fuzz.sh: clang is needed: apt-get install clang libclang-rt-14-dev" >&2
  exit 1
}
[ -x configure ] || autoreconf -fi
mkdir -p build-fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
if [ ! -f build-fuzz/Makefile ]; then
  (cd build-fuzz && ../configure -q CC=clang \
    CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $san" \
    LDFLAGS="$san")
fi
# makevar NAME: a variable of the build-fuzz/ Makefile (tests/local.mk's
# FUZZ_LIBS, a harness's _SOURCES, configure's LIBS ...)
makevar() {
  printf 'fuzz-print-var:\n\t@echo $(%s)\n' "$1" |
    make -s --no-print-directory -C build-fuzz -f Makefile -f - fuzz-print-var
}
all=$(for p in $(makevar check_PROGRAMS); do
  case $p in tests/fuzz/fuzz_*) echo "${p#tests/fuzz/fuzz_}" ;; esac
done | tr '\n' ' ')
harnesses=${*:-$all}
# FUZZ_LIBS = the project's static libraries (build-fuzz/ paths) and the
# external ones (-l and pkg-config flags); LIBS adds what configure found.
archives="" ext=""
for l in $(makevar FUZZ_LIBS) $(makevar LIBS); do
  case $l in
    *.a) archives="$archives $l" ;;
    *) ext="$ext $l" ;;
  esac
done
make -C build-fuzz -j2 $archives >/dev/null
libs=$(for a in $archives; do printf '%s ' "build-fuzz/$a"; done)
cppflags="$(makevar UV_CFLAGS) $(makevar SQLITE_CFLAGS) $(makevar JANSSON_CFLAGS)
  $(makevar ZLIB_CFLAGS) $(makevar BLAS_CFLAGS) -I. -Ibuild-fuzz -include config.h"
summary=""
for h in $harnesses; do
  case " $all " in *" $h "*) ;; *)
    echo "fuzz.sh: no harness '$h' (have: $all)" >&2; exit 2 ;;
  esac
  srcs=""
  for s in $(makevar "tests_fuzz_fuzz_${h}_SOURCES"); do
    case $s in tests/fuzz/driver.c|*.h) ;; *) srcs="$srcs $s" ;; esac
  done
  clang -std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer $san $cppflags \
    -DSM_SRCDIR="\"$PWD\"" -DSM_DATADIR="\"$PWD/models\"" \
    -DSM_BUILDDIR="\"$PWD/build-fuzz\"" -DSM_BINDIR="\"$PWD/build-fuzz\"" \
    $srcs $libs $ext -o "build-fuzz/fuzz_$h"
  corpus=build-fuzz/corpus/$h crash=build-fuzz/crash/$h
  mkdir -p "$corpus" "$crash"
  case $h in
    conf) extra="models/arch/*.json" ;;
    grid) extra="doc/sweep-*.json" ;;
    replay) extra="tests/data/fuzz/trace/*" ;;
    *) extra="" ;; # model: the shipped models exceed -max_len; seeds are small
  esac
  for f in tests/data/fuzz/$h/* $extra; do
    [ -f "$f" ] && cp "$f" "$corpus/" 2>/dev/null || true
  done
  log=build-fuzz/$h.log
  echo "fuzz.sh: $h for $secs s"
  t0=$(date +%s)
  set +e
  "build-fuzz/fuzz_$h" "$corpus" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$crash/" -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1
  rc=$?
  set -e
  took=$(( $(date +%s) - t0 )) # less than asked when a finding stopped it
  execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  # fork mode prints no final stats: its last "#N" line counts them
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
  note=""
  if [ "$rc" -ne 0 ]; then note=" -- see $log and $crash/"; fi
  summary="$summary
$h: ${execs:-?} executions in $took s, cov ${cov:-?}, exit $rc$note"
done
echo "fuzz.sh: summary:$summary"
