#!/bin/sh
# make install carries everything the program reads by name and every page
# of the documentation, and the installed program reads its own copy: it
# never opens a file of the source or build tree unless SPIKEMESH_DATA
# says so (models/map.h, model_data_dir: the data directory).
#
# Installs with DESTDIR into a scratch folder, checks the staged files
# against the source tree (every models/*.json, models/arch/*.json,
# models/paper/*.json, doc/*.md, doc/img/*.png and the man page), then runs
# the staged program from an empty folder with SPIKEMESH_DATA unset: the
# default model and preset, energy theory, noc on the noc-clocked preset and
# the CNN by its installed path.  With strace (and ptrace allowed) every
# file the program touches is listed and none may be under the source or
# build tree; without it the paths the program prints are checked.  A copy
# of the program outside both $(bindir) and the build tree must name only
# $(pkgdatadir).  Runs from the build directory (make check sets srcdir,
# MAKE and the installation directories).
set -u
builddir=$(pwd)
: "${srcdir:?}" "${sm_prefix:?}" "${sm_bindir:?}" "${sm_pkgdatadir:?}"
: "${sm_docdir:?}" "${sm_mandir:?}"
unset SPIKEMESH_DATA
src=$(cd "$srcdir" && pwd -P)
build=$(pwd -P)
prefix=$(cd "$sm_prefix" 2>/dev/null && pwd -P || echo "$sm_prefix")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)
case "$tmp/" in "$src/"*|"$build/"*)
  echo "skip: the scratch folder $tmp is inside the source or build tree"; exit 77 ;;
esac
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

dest=$tmp/stage
if ! ${MAKE:-make} -C "$builddir" install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
  echo "FAIL: make install DESTDIR=$dest"; tail -20 "$tmp/install.log"; exit 1
fi
data=$dest$sm_pkgdatadir
bin=$dest$sm_bindir/spikemesh
[ -x "$bin" ] && ok "the program is in DESTDIR\$(bindir)" || { bad "no $bin"; exit 1; }

# --- every shipped file is installed, unchanged -------------------------
installed() { # installed DIR FILE...: each FILE is DIR/basename, same bytes
  to=$1; shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    if cmp -s "$f" "$to/${f##*/}"; then n=$((n + 1))
    else bad "not installed: ${f#"$srcdir"/} (in ${to#"$dest"})"; fi
  done
}
n=0
installed "$data" "$srcdir"/models/*.json
installed "$data/arch" "$srcdir"/models/arch/*.json
installed "$data/paper" "$srcdir"/models/paper/*.json
installed "$dest$sm_docdir" "$srcdir"/doc/*.md
installed "$dest$sm_docdir/img" "$srcdir"/doc/img/*.png
installed "$dest$sm_mandir/man1" "$srcdir"/doc/spikemesh.1
[ "$n" -ge 20 ] && ok "$n shipped files installed unchanged" ||
  bad "only $n shipped files found installed"

# --- the staged program runs from its own data --------------------------
mkdir "$tmp/elsewhere" && cd "$tmp/elsewhere" || exit 1
tracer=""
if command -v strace >/dev/null 2>&1 &&
   strace -f -o /dev/null true >/dev/null 2>&1; then
  tracer=strace
  # LeakSanitizer cannot run under ptrace: the sanitizer build's leak check
  # is done by the rest of the suite, not here
  ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
  export ASAN_OPTIONS
else
  echo "note: no usable strace: checking the paths the program prints only"
fi
# Nothing the staged program printed or touched is in the source or build
# tree.  The installation prefix may lie inside them (make distcheck puts it
# in the unpacked tree): paths under it are the installed ones, and its
# parents are looked at when $(bindir) is resolved, not the tree's files.
# Paths are the words of the output and strace's quoted strings.
tree_paths() { # tree_paths FILE...: the paths in FILEs under src or build
  awk -v src="$src" -v given="$srcdir" -v build="$build" -v prefix="$prefix" \
      -v tmp="$tmp" '
    function in_(p, top) { return index(p, top) == 1 &&
      (length(p) == length(top) || substr(p, length(top) + 1, 1) == "/") }
    { n = split($0, w, /[ \t"(),=]+/)
      for (k = 1; k <= n; k++)
        if ((in_(w[k], src) || in_(w[k], given) || in_(w[k], build)) &&
            !in_(w[k], prefix) && !in_(prefix, w[k]) && !in_(w[k], tmp))
          print w[k] }' "$@"
}
i=0
S() { # S NAME WANT ARGS...: run the staged program, expect WANT in its output
  name=$1 want=$2; shift 2
  i=$((i + 1))
  if [ -n "$tracer" ]; then
    strace -f -qq -e trace=%file -o "$tmp/trace.$i" "$@" >"$tmp/out.$i" 2>&1
  else
    "$@" >"$tmp/out.$i" 2>&1
  fi
  st=$?
  if [ $st = 0 ] && grep -qF -- "$want" "$tmp/out.$i"; then ok "$name"
  else bad "$name (exit $st; wanted '$want')"; head -5 "$tmp/out.$i"; fi
}
S "--help names the staged data directory" "This program's: $data" "$bin" --help
if [ -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ] ||
   [ -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte ]; then
  S "run: the installed default model and preset" \
    "model $data/fmnist-mlp.json" "$bin" run --frames 20 --quiet
  S "run: the installed CNN by its path" \
    "model $data/fmnist-cnn.json" "$bin" run --model "$data/fmnist-cnn.json" --frames 5 --quiet
else
  echo "note: no Fashion-MNIST test set: the models run on synthetic frames"
  S "run: the installed default model and preset" \
    "model $data/fmnist-mlp.json" "$bin" run --data synthetic:1 --frames 3 --quiet
  S "run: the installed CNN by its path" \
    "model $data/fmnist-cnn.json" "$bin" run --model "$data/fmnist-cnn.json" --data synthetic:1 --frames 2 --quiet
fi
grep -q "preset paper-22nm" "$tmp/out.2" || bad "run: not on the paper-22nm preset"
S "energy theory: the installed Table 2" "Eq. 11 normalized to" "$bin" energy theory
S "noc: the installed noc-clocked preset" "clocked timing" \
  "$bin" noc noc-clocked traffic.rates=0.05 noc.width=3 noc.height=3

# an unknown preset names the one directory searched
"$bin" run --arch no-such-chip >"$tmp/out.x" 2>&1
if [ $? = 2 ] && grep -qF "'no-such-chip' not found in $data/arch (" "$tmp/out.x" &&
   [ -z "$(tree_paths "$tmp/out.x")" ]; then
  ok "an unknown preset names $data/arch only"
else
  bad "unknown preset message"; cat "$tmp/out.x"
fi

# nothing the staged program printed or touched is in the source or build tree
touched=$(tree_paths "$tmp"/out.*)
if [ -n "$touched" ]; then
  bad "a path of the source or build tree in the output:"
  printf '%s\n' "$touched" | sort -u | head -5
fi
if [ -n "$tracer" ]; then
  touched=$(tree_paths "$tmp"/trace.*)
  if [ -n "$touched" ]; then
    bad "the staged program touched the source or build tree:"
    printf '%s\n' "$touched" | sort -u | head -10
  elif grep -qF "\"$data/arch/noc-clocked.json\"" "$tmp"/trace.* &&
       grep -qF "\"$data/paper/table2.json\"" "$tmp"/trace.* &&
       grep -qF "\"$data/fmnist-mlp.json\"" "$tmp"/trace.*; then
    ok "strace: $(cat "$tmp"/trace.* | wc -l) file calls, none in the source or build tree"
  else
    bad "strace saw no installed preset, table or model: the trace is not to be trusted"
  fi
fi

# --- a copy outside $(bindir) and the build tree: $(pkgdatadir) only ----
mkdir -p "$tmp/other/bin" && cp "$bin" "$tmp/other/bin/spikemesh"
"$tmp/other/bin/spikemesh" run --arch no-such-chip >"$tmp/out.y" 2>&1
if [ $? = 2 ] &&
   grep -qF "not found in $sm_pkgdatadir/arch (the installed data directory)" "$tmp/out.y"; then
  ok "a copy elsewhere looks in $sm_pkgdatadir only"
else
  bad "a copy elsewhere"; cat "$tmp/out.y"
fi
# ... and SPIKEMESH_DATA moves it anywhere
if SPIKEMESH_DATA=$data "$tmp/other/bin/spikemesh" energy theory >"$tmp/out.z" 2>&1; then
  ok "SPIKEMESH_DATA=$data: energy theory"
else
  bad "SPIKEMESH_DATA"; head -5 "$tmp/out.z"
fi
exit $fail
