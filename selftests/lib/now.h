/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Time for the selftests: CLOCK_MONOTONIC milliseconds (and nanoseconds),
 * relative timeouts, a sleep that EINTR does not cut short, and how long a
 * test waits for one answer.
 */
#ifndef SEALSHM_SELFTESTS_LIB_NOW_H
#define SEALSHM_SELFTESTS_LIB_NOW_H

#include <stdint.h>
#include <time.h>

/* How long a test waits for one answer from trackerd or the peer helper
 * (also the raw client's socket timeouts). */
#define HELPER_IO_TIMEOUT_MS 5000

uint64_t helper_now_ms(void);

/* CLOCK_MONOTONIC nanoseconds. */
int64_t helper_now_ns(void);

/* @ms milliseconds as a relative timeout for the calls that take one. */
struct timespec helper_rel_ms(long ms);

void helper_sleep_ms(unsigned int ms);

#endif /* SEALSHM_SELFTESTS_LIB_NOW_H */
