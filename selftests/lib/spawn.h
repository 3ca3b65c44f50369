/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Children that run a function in the background (the shared objects'
 * tests run many at once and kill some), waiting until they say they are
 * ready, and whether a child is asleep in a futex wait (so that a test
 * knows a waiter has gone to sleep).
 */
#ifndef SEALSHM_SELFTESTS_LIB_SPAWN_H
#define SEALSHM_SELFTESTS_LIB_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Fork a child that dies with the test (PDEATHSIG), runs @fn(@arg, @i)
 * and exits with its result (never through the harness).  Its pid, or
 * -errno. */
pid_t spawn_child(int (*fn)(void *arg, int i), void *arg, int i);

/* Wait up to @timeout_ms until the counter *@word that children
 * increment (in shared memory) reaches @n.  False when it did not. */
bool helper_wait_count(const uint32_t *word, uint32_t n, unsigned int timeout_ms);

/* True when @pid sleeps in a futex wait (state S, and its wait channel
 * names a futex function where the kernel shows one). */
bool helper_in_futex_wait(pid_t pid);

/* Wait up to @timeout_ms until each of the @n pids sleeps in a futex
 * wait.  0 or -ETIMEDOUT. */
int helper_wait_futex_sleepers(const pid_t *pids, int n, unsigned int timeout_ms);

#endif /* SEALSHM_SELFTESTS_LIB_SPAWN_H */
