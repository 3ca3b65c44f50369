#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Check that everything the build and the selftests need is installed.
# Missing packages: as root with apt-get, install them (saying so);
# otherwise print the exact apt-get command and exit 1.  Silent when all
# is present.

set -u

missing=""
need() {	# need PACKAGE: add it once to the missing list
	case " $missing " in
	*" $1 "*) ;;
	*) missing="${missing:+$missing }$1" ;;
	esac
}

# command -> Debian package
for pair in gcc:gcc g++:g++ make:make pkg-config:pkg-config ar:binutils nm:binutils \
	    xz:xz-utils tar:tar dpkg-deb:dpkg dpkg-architecture:dpkg-dev \
	    python3:python3 tmux:tmux groff:groff valgrind:valgrind clang:clang; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || need "${pair#*:}"
done

# clang's fuzzer runtime (make fuzz) is only a Recommends of clang, so a
# --no-install-recommends install of clang lacks it.
if ! command -v clang >/dev/null 2>&1 ||
   ! ls "$(clang --print-runtime-dir 2>/dev/null)"/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
	need libclang-rt-14-dev
fi

# pkg-config module -> Debian package (trackerd's sandbox; shmtop)
if command -v pkg-config >/dev/null 2>&1; then
	for pair in libseccomp:libseccomp-dev libcap:libcap-dev ncursesw:libncurses-dev; do
		pkg-config --exists "${pair%%:*}" || need "${pair#*:}"
	done
else
	need libseccomp-dev
	need libcap-dev
	need libncurses-dev
fi

# Debian's python3 (/usr/bin/python3; Debian packages serve no other):
# its C headers for the extension, the venv module with its bundled pip
# for pip_test, numpy for the tests that share arrays.
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
		2>/dev/null || need python3-dev
	/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || need python3-venv
	/usr/bin/python3 -c 'import numpy' 2>/dev/null || need python3-numpy
fi

[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: installing missing packages: $missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update && $cmd </dev/null && exit 0
	echo "deps.sh: '$cmd' failed" >&2
	exit 1
fi

echo "deps.sh: missing packages: $missing" >&2
echo "deps.sh: install them with:" >&2
echo "    sudo $cmd" >&2
exit 1
