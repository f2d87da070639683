#!/bin/sh
# setup.sh -- install what is missing, build, and run the main job.
#
#   scripts/setup.sh            install packages (as root), build, run
#   scripts/setup.sh --no-run   install and build only (CI uses this)
#
# The package list lives in scripts/packages.txt.  Packages already
# installed are skipped, so a second run does not touch apt.
set -eu
cd "$(dirname "$0")/.."
run=1
for a in "$@"; do
  case "$a" in
    --no-run) run=0 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done

missing=""
for p in $(grep -v '^#' scripts/packages.txt); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup.sh: installing:$missing"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: these packages are missing and installing them needs root:$missing" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
fi

# Out-of-tree build in build/, so sanitizer builds (build-san/) can sit
# beside it.  ./spikemesh is a link to the built program.
[ -x configure ] || autoreconf -fi
mkdir -p build
[ -f build/Makefile ] || (cd build && ../configure --enable-werror)
make -C build -j"$(nproc)"
ln -sf build/spikemesh spikemesh

# The main job: the shipped Fashion-MNIST model on the default preset
# (paper-22nm) over the 10,000 test frames.
if [ "$run" = 1 ]; then
  ./spikemesh run
fi
