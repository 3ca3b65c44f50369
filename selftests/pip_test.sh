#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pip_test: `pip install --no-index` of the source tree into a fresh venv,
# offline and without setuptools: pip runs the in-tree build backend
# (pyproject.toml, python/build_backend/sealshm_build.py), which compiles
# the library, the extension and trackerd with the system compiler into a
# wheel.  From outside the tree, the installed package then imports from
# the venv, carries its own trackerd beside a self-contained extension,
# starts that trackerd on a private socket at the first call and shares a
# segment between two processes through it; `pip uninstall` removes it
# all.  The sdist builds a wheel of its own (nothing is missing from it).
#
# The venv: `python -m venv --without-pip`, driven by the interpreter's own
# pip (`pip --python`, pip >= 22.3) when it has one, else a venv with the
# pip that ensurepip bundles (Debian: python3-venv).  Neither needs the
# network.  pip runs --isolated: no user configuration, no PIP_* variables.
#
# Environment (selftests/Makefile): SEALSHM_TEST_TOP, SEALSHM_TEST_PYTHON,
# SEALSHM_TEST_PY_SKIP (set: skip, saying why), SEALSHM_TEST_SANITIZE=1
# (the wheel is then built with ASan + UBSan and run with the ASan runtime
# preloaded, SEALSHM_TEST_ASAN_RUNTIME).  Output: kselftest TAP.

set -u

top=${SEALSHM_TEST_TOP:-$(cd -- "$(dirname -- "$0")/.." && pwd)}
py=${SEALSHM_TEST_PYTHON:-python3}
TESTS=(pip_install_builds_the_tree wheel_holds_package_and_trackerd imports_outside_the_tree
       extension_is_self_contained bundled_trackerd_shares_a_segment uninstall_removes_it_all
       sdist_builds_a_wheel)

n=0 passed=0 failed=0 skipped=0
ok()     { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n pip.$1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n pip.$1${2:+ # $2}"; }
skip()   { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n pip.$1 # SKIP $2"; }
totals() {
	echo "1..$n"
	echo "# Totals: pass:$passed fail:$failed xfail:0 xpass:0 skip:$skipped error:0"
}
# Indented output of what just ran, as TAP comments.
show()   { sed 's/^/#   /' "$1"; }

echo "TAP version 13"

skip_all() {
	for t in "${TESTS[@]}"; do skip "$t" "$1"; done
	totals
	exit 4
}
[ -n "${SEALSHM_TEST_PY_SKIP:-}" ] && skip_all "$SEALSHM_TEST_PY_SKIP"
command -v "$py" >/dev/null 2>&1 || skip_all "no Python: $py"

version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' "$top/Makefile")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sealshm-pip.XXXXXX") || exit 1
venv=$tmp/venv
run=$tmp/run		# the private trackerd's socket directory
log=$tmp/cmd.log
tpid=
cleanup() {
	if [ -n "$tpid" ] && kill -0 "$tpid" 2>/dev/null; then
		kill "$tpid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$tpid" 2>/dev/null
	fi
	rm -rf -- "$tmp"
}
trap cleanup EXIT
mkdir -m 700 "$run"

# Nothing from the caller's environment that would change what pip
# builds or what the package finds.
unset PYTHONPATH PYTHONHOME SEALSHM_TRACKERD SEALSHM_NO_AUTOSTART SEALSHM_SESSION
export PYTHONDONTWRITEBYTECODE=1	# no __pycache__ in the source tree from the backend
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
preload=()
if [ "${SEALSHM_TEST_SANITIZE:-0}" = 1 ]; then
	san="-fsanitize=address,undefined -fno-omit-frame-pointer"
	export CFLAGS="-g -O1 $san" LDFLAGS="$san"
	rt=${SEALSHM_TEST_ASAN_RUNTIME:-$(${CC:-cc} -print-file-name=libasan.so)}
	preload=(env "LD_PRELOAD=$rt" "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
fi

# The venv, and the pip that drives it.
pipv=$("$py" -m pip --version 2>/dev/null | sed -n 's/^pip \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
if [ -n "$pipv" ] && { read -r maj min <<<"$pipv"; [ "$maj" -gt 22 ] ||
			 { [ "$maj" -eq 22 ] && [ "$min" -ge 3 ]; }; }; then
	"$py" -m venv --without-pip "$venv" >"$log" 2>&1
	pip=("$py" -m pip --isolated --python "$venv/bin/python")
else
	"$py" -m venv "$venv" >"$log" 2>&1
	pip=("$venv/bin/python" -m pip --isolated)
fi
if [ $? -ne 0 ] || [ ! -x "$venv/bin/python" ]; then
	show "$log"
	skip_all "$py -m venv failed, see above (Debian: apt-get install python3-venv)"
fi
vpy=$venv/bin/python
echo "# $("$vpy" -c 'import sys; print(sys.version.split()[0], sys.executable)'); pip: ${pip[*]}"

# CODE [ARG...]: what Python code prints, run by the venv's python from
# $tmp (within a minute).
pyrun() { (cd "$tmp" && timeout 60 "${preload[@]}" "$vpy" -c "$@" 2>>"$log"); }

# 1. pip builds the tree's wheel and installs it, with no index.
start=$(date +%s)
if timeout 150 "${pip[@]}" install --no-index --no-cache-dir "$top" >"$log" 2>&1; then
	ok pip_install_builds_the_tree
	installed=1
else
	show "$log"
	not_ok pip_install_builds_the_tree "pip install failed"
	installed=
fi
echo "# pip install: $(($(date +%s) - start)) s"
needs_install() {	# NAME: false (and NAME fails) when nothing is installed
	[ -n "$installed" ] && return 0
	not_ok "$1" "needs the install, which failed"
	return 1
}

site=$(pyrun 'import sysconfig; print(sysconfig.get_path("platlib"))')
pkg=$site/sealshm
suffix=$(pyrun 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')

# 2. sealshm/ holds every .py/.pyi and py.typed of the tree, the extension
# and an executable trackerd of this version.
if needs_install wheel_holds_package_and_trackerd; then
	missing=
	for f in "$top"/python/sealshm/*.py "$top"/python/sealshm/*.pyi \
		 "$top"/python/sealshm/py.typed "$pkg/_sealshm$suffix"; do
		[ -e "$f" ] || continue			# a glob that matched nothing
		cmp -s "$f" "$pkg/${f##*/}" || missing="$missing ${f##*/}"
	done
	[ -f "$pkg/_sealshm$suffix" ] || missing="$missing _sealshm$suffix"
	tv=$("${preload[@]}" "$pkg/trackerd" --version 2>&1)
	if [ -n "$missing" ]; then
		not_ok wheel_holds_package_and_trackerd "missing or different in $pkg:$missing"
	elif [ ! -x "$pkg/trackerd" ] || [ "$tv" != "trackerd $version" ]; then
		not_ok wheel_holds_package_and_trackerd "$pkg/trackerd --version: $tv"
	else
		ok wheel_holds_package_and_trackerd
	fi
fi

# 3. From outside the tree, sealshm comes from the venv, is this version
# and starts the trackerd beside its extension.
if needs_install imports_outside_the_tree; then
	: >"$log"
	got=$(pyrun 'import sealshm
from sealshm import _sealshm
print(sealshm.__file__, _sealshm.version(), _sealshm.trackerd_path(), sep="|")')
	want="$pkg/__init__.py|$version|$(realpath "$pkg/trackerd")"
	if [ "$got" = "$want" ]; then
		ok imports_outside_the_tree
	else
		show "$log"
		not_ok imports_outside_the_tree "got '$got', want '$want'"
	fi
fi

# 4. The extension carries the library: no libsealshm.so (nor libpython)
# needed, PyInit__sealshm its only export.
if needs_install extension_is_self_contained; then
	so=$pkg/_sealshm$suffix
	needed=$(readelf -d "$so" 2>&1 | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	exports=$(nm -D --defined-only "$so" 2>&1 | awk 'NF == 3 && $2 != "A" { print $3 }' |
		  tr '\n' ' ')
	case "$needed" in
	"" | *sealshm* | *python*)
		not_ok extension_is_self_contained "NEEDED: '$needed'" ;;
	*)	if [ "$exports" = "PyInit__sealshm " ]; then
			ok extension_is_self_contained
		else
			not_ok extension_is_self_contained "exports: $exports"
		fi ;;
	esac
fi

# 5. With autostart on and a private socket, the first call starts the
# bundled trackerd; a segment written by one process is read by another.
if needs_install bundled_trackerd_shares_a_segment; then
	sock=$run/trackerd.sock
	: >"$log"
	out=$(SEALSHM_SOCKET=$sock pyrun '
import subprocess, sys
from sealshm import shared_memory
shm = shared_memory.SharedMemory(create=True, size=4096)
shm.buf[:9] = b"from venv"
# An independent program: track=False, or its exit would unlink the name
# (the rule of CPython, kept).
peer = ("import sys; from sealshm import shared_memory as s; "
        "m = s.SharedMemory(sys.argv[1], track=False); "
        "print(bytes(m.buf[:9]).decode()); m.close()")
print(subprocess.run([sys.executable, "-c", peer, shm.name], stdout=subprocess.PIPE,
                     universal_newlines=True, timeout=30).stdout.strip())
shm.unlink()
shm.close()')
	rc=$?
	tpid=$(sed -n 's/^trackerd\[\([0-9]*\)\]: serving .*/\1/p' "$sock.log" 2>/dev/null | head -n 1)
	exe=$( [ -n "$tpid" ] && readlink "/proc/$tpid/exe")
	if [ $rc -ne 0 ] || [ "$out" != "from venv" ]; then
		show "$log"
		not_ok bundled_trackerd_shares_a_segment "exit $rc, the peer read '$out'"
	elif [ "$exe" != "$(realpath "$pkg/trackerd")" ]; then
		not_ok bundled_trackerd_shares_a_segment \
			"the trackerd serving $sock (pid '$tpid') runs '$exe', not the bundled one"
	else
		ok bundled_trackerd_shares_a_segment
	fi
	[ -f "$sock.log" ] && [ $rc -ne 0 ] && show "$sock.log"
fi

# 6. pip uninstall leaves nothing of sealshm in site-packages.
if needs_install uninstall_removes_it_all; then
	timeout 60 "${pip[@]}" uninstall -y sealshm >"$log" 2>&1
	rc=$?
	left=$(cd "$site" && ls -d sealshm* 2>/dev/null | tr '\n' ' ')
	if [ $rc -eq 0 ] && [ -z "$left" ]; then
		ok uninstall_removes_it_all
	else
		show "$log"
		not_ok uninstall_removes_it_all "pip exited $rc; left in $site: $left"
	fi
fi

# 7. The sdist (build_sdist) holds what pip needs to build a wheel from it:
# one with the extension and an executable trackerd, for this interpreter.
: >"$log"
sdist=$(cd "$top" && "$vpy" -c '
import sys
sys.path.insert(0, "python/build_backend")
import sealshm_build
print(sealshm_build.build_sdist(sys.argv[1]))' "$tmp/dist" 2>>"$log")
if [ -z "$sdist" ]; then
	show "$log"
	not_ok sdist_builds_a_wheel "build_sdist failed"
elif ! timeout 150 "${pip[@]}" wheel --no-deps --no-index --no-cache-dir -w "$tmp/wheels" \
	"$tmp/dist/$sdist" >"$log" 2>&1; then
	show "$log"
	not_ok sdist_builds_a_wheel "pip wheel $sdist failed"
else
	check=$("$vpy" -c '
import glob, sys, zipfile
tag = "cp%d%d" % sys.version_info[:2]
w = glob.glob(sys.argv[1] + "/sealshm-" + sys.argv[2] + "-*.whl")
if len(w) != 1 or not w[0].endswith("-%s-%s-linux_x86_64.whl" % (tag, tag)):
    sys.exit("wheels: %s" % w)
z = zipfile.ZipFile(w[0])
mode = {i.filename: i.external_attr >> 16 for i in z.infolist()}
need = {"sealshm/trackerd": 0o100755, "sealshm/__init__.py": 0o100644,
        "sealshm-%s.dist-info/RECORD" % sys.argv[2]: 0o100644}
bad = [f for f in need if mode.get(f) != need[f]]
bad += [] if any(f.startswith("sealshm/_sealshm.") and f.endswith(".so") for f in mode) \
          else ["sealshm/_sealshm*.so"]
print(" ".join(bad))' "$tmp/wheels" "$version" 2>&1)
	if [ -z "$check" ]; then
		ok sdist_builds_a_wheel
	else
		not_ok sdist_builds_a_wheel "the wheel: $check"
	fi
fi

totals
[ "$failed" -eq 0 ]
