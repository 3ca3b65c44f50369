#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One Python test module as one selftest program.  selftests/Makefile makes
# $(O)/selftests/python/test_NAME, a link to this script, for every
# python/tests/test_NAME.py; run under that name, it runs that module with
# python/tests/run.py against the built package, which prints TAP with one
# line per test and the Totals line run_tests.sh adds up.  A module per
# program: each gets run_tests.sh's timeout (run.py's own, 150 s, comes
# first and names the test that hung).
#
# Environment (selftests/Makefile's run_tests): SEALSHM_TEST_TOP,
# SEALSHM_TEST_PYTHON (the interpreter), SEALSHM_TEST_PY_PACKAGE (the
# directory that holds the built sealshm/), SEALSHM_TEST_PY_SKIP (set:
# skip, saying why); run.py reads SEALSHM_TEST_SANITIZE and
# SEALSHM_TEST_ASAN_RUNTIME.

module=${0##*/}
if [ -n "${SEALSHM_TEST_PY_SKIP:-}" ]; then
	echo "TAP version 13"
	echo "ok 1 $module # SKIP $SEALSHM_TEST_PY_SKIP"
	echo "1..1"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi
exec "$SEALSHM_TEST_PYTHON" "$SEALSHM_TEST_TOP/python/tests/run.py" \
	--package "$SEALSHM_TEST_PY_PACKAGE" "$module"
