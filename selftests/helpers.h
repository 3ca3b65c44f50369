/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The selftests' library (lib/, built once into libselftest.a) in one
 * include, for the test programs: include it after kselftest_harness.h, as
 * lib/fixture.h reports through the harness.
 *
 *   now.h       monotonic milliseconds, sleeping, HELPER_IO_TIMEOUT_MS
 *   paths.h     where trackerd, the peer helper, the CLI and the examples are
 *   fds.h       counting fds (the leak checks), memfds made without the library
 *   files.h     reading a whole file, removing a temp directory
 *   process.h   reaping, exit codes, forked children (run_child(), CHILD_CHECK)
 *   seccomp.h   helper_deny_futex_waitv(): a process without futex_waitv(2)
 *   spawn.h     children in the background (spawn_child()), futex sleepers
 *   run.h       running a program to its end (helper_run())
 *   raw.h       a raw protocol client (raw_*)
 *   idx.h       the published index from a raw client (INDEX, TRACK)
 *   trackerd.h  a private trackerd (struct trackerd) and its log
 *   fake_trackerd.h  a fake trackerd that lists the names it is given, as
 *               they are (struct fake_trackerd)
 *   registry.h  waiting on what the registry holds
 *   step.h      a child run one instruction at a time (ptrace), looked at
 *               after each
 *   text.h      whether a program's output has a given line
 *   peer.h      the exec'd peer helper (run_peer(), struct peer)
 *   fixture.h   through the harness: the set-up and teardown of fixtures with
 *               a private trackerd, and their checks (EXPECT_REGISTRY_EMPTY, ...)
 *
 * Everything but fixture.h reports by its return value (a negative errno on
 * failure) and never uses the harness macros, so it may also be called from
 * forked children (which must leave with _exit(), never through the
 * harness).
 */
#ifndef SEALSHM_SELFTESTS_HELPERS_H
#define SEALSHM_SELFTESTS_HELPERS_H

#include "internal.h"
#include "proto.h"
#include "sealshm.h"

#include "lib/now.h"
#include "lib/fds.h"
#include "lib/files.h"
#include "lib/idx.h"
#include "lib/paths.h"
#include "lib/peer.h"
#include "lib/process.h"
#include "lib/seccomp.h"
#include "lib/spawn.h"
#include "lib/raw.h"
#include "lib/registry.h"
#include "lib/run.h"
#include "lib/step.h"
#include "lib/text.h"
#include "lib/trackerd.h"
#include "lib/fake_trackerd.h"

#include "lib/fixture.h"

#endif /* SEALSHM_SELFTESTS_HELPERS_H */
