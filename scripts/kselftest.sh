#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# kselftest.sh OUTDIR: put the kernel's kselftest harness headers
# (kselftest_harness.h, kselftest.h; GPL-2.0-only) into OUTDIR, extracted
# from Debian's linux-source-6.1 package.  They are used to build the
# selftests only: never installed, never committed.  Reused when present.

set -euo pipefail

pkg=linux-source-6.1
hdrs=(kselftest_harness.h kselftest.h)

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$(realpath -m -- "$1")

have=1
for h in "${hdrs[@]}"; do
	[ -f "$out/$h" ] || have=0
done
[ "$have" -eq 1 ] && exit 0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sealshm-kselftest.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
# apt downloads as user _apt when it can write there (else it warns).
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
	chown _apt "$tmp"
fi

echo "kselftest.sh: downloading $pkg for the kselftest harness headers"
cd "$tmp"
if ! apt-get download "$pkg" </dev/null; then
	echo "kselftest.sh: download failed; running apt-get update and retrying"
	apt-get update </dev/null
	apt-get download "$pkg" </dev/null
fi
debs=("$tmp"/"$pkg"_*.deb)
[ -f "${debs[0]}" ] || { echo "kselftest.sh: no $pkg .deb downloaded" >&2; exit 1; }

# The package holds one big tarball of the kernel source; stream it and keep
# only the selftests' kselftest*.h.
dpkg-deb --fsys-tarfile "${debs[0]}" |
	tar -xO "./usr/src/$pkg.tar.xz" |
	tar -xJ --wildcards '*/tools/testing/selftests/kselftest*.h'

mkdir -p -- "$out"
for h in "${hdrs[@]}"; do
	src=$(find "$tmp" -path "*/tools/testing/selftests/$h" -print -quit)
	[ -n "$src" ] || { echo "kselftest.sh: $h not found in $pkg" >&2; exit 1; }
	# Copy then rename, so a concurrent or interrupted run never leaves half a header.
	cp -- "$src" "$out/.$h.tmp"
	mv -f -- "$out/.$h.tmp" "$out/$h"
done
echo "kselftest.sh: $out/{${hdrs[0]},${hdrs[1]}} from $(basename "${debs[0]}")"
