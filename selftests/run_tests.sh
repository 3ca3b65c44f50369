#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# run_tests.sh PROG...: run each kselftest program, show its TAP output, and
# add up its "# Totals:" line.  A program that crashes, times out or prints
# no Totals line counts as one failure; exit code 4 with no Totals line is
# one skip.  Ends with the line "N passed, N failed, N skipped" and exits 1
# if anything failed.
#
# Per-program timeout: "timeout=N" in selftests/settings (default 120 s),
# as in the kernel's kselftest runner.

set -u

here=$(dirname -- "$(readlink -f -- "$0")")
timeout=120
if [ -f "$here/settings" ]; then
	t=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$here/settings" | tail -n 1)
	[ -n "$t" ] && timeout=$t
fi

# Tests check that the fds they exec carry are exactly 0, 1 and 2: start
# them without whatever the caller leaked to us (255 is bash's own script fd,
# close-on-exec).
for fd in "/proc/$$/fd"/*; do
	fd=${fd##*/}
	case $fd in
	0 | 1 | 2 | 255) ;;
	*) eval "exec $fd>&-" 2>/dev/null ;;
	esac
done

passed=0
failed=0
skipped=0
n=0
log=$(mktemp "${TMPDIR:-/tmp}/sealshm-selftest.XXXXXX")
trap 'rm -f -- "$log"' EXIT

echo "TAP version 13"
echo "1..$#"
for prog in "$@"; do
	n=$((n + 1))
	name=$(basename -- "$prog")
	echo "# selftests: sealshm: $name"

	# Output goes to a file, not a pipe: a daemon a test leaves behind
	# must not keep the runner waiting for EOF.  The outer 2>/dev/null only
	# drops bash's own "Segmentation fault" notice; the result line says it.
	{ timeout --kill-after=10 "$timeout" "$prog" >"$log" 2>&1 </dev/null; } 2>/dev/null
	rc=$?
	sed 's/^/# /' "$log"

	case $rc in
	0 | 4)	why="" ;;
	124)	why="timed out after ${timeout}s" ;;
	137)	why="killed: timed out after ${timeout}s and ignored SIGTERM" ;;
	*)	if [ "$rc" -gt 128 ]; then
			why="died of signal $((rc - 128))"
		else
			why="exit code $rc"
		fi ;;
	esac

	totals=$(grep -E '^# Totals: pass:[0-9]+ fail:[0-9]+ xfail:[0-9]+ xpass:[0-9]+ skip:[0-9]+ error:[0-9]+' "$log" | tail -n 1)
	if [ -n "$totals" ]; then
		read -r p f xf xp s e <<<"$(sed -E 's/^# Totals: pass:([0-9]+) fail:([0-9]+) xfail:([0-9]+) xpass:([0-9]+) skip:([0-9]+) error:([0-9]+).*/\1 \2 \3 \4 \5 \6/' <<<"$totals")"
		passed=$((passed + p + xf))
		failed=$((failed + f + xp + e))
		skipped=$((skipped + s))
		if [ $((f + xp + e)) -eq 0 ] && [ -n "$why" ]; then
			# Every test passed, yet the program failed: count it.
			failed=$((failed + 1))
			why="$why after a clean Totals line, counted as one failure"
		elif [ $((f + xp + e)) -gt 0 ] && [ -z "$why" ]; then
			why="tests failed but exit code $rc"
		fi
	elif [ "$rc" -eq 4 ]; then
		skipped=$((skipped + 1))
	else
		failed=$((failed + 1))
		why="${why:-exit code 0}; no Totals line, counted as one failure"
	fi

	if [ -n "$why" ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; }; then
		echo "not ok $n selftests: sealshm: $name # ${why:-exit code $rc}"
	elif [ "$rc" -eq 4 ]; then
		echo "ok $n selftests: sealshm: $name # SKIP"
	else
		echo "ok $n selftests: sealshm: $name"
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
