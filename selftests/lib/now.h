/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Time for the selftests: CLOCK_MONOTONIC milliseconds, a sleep that
 * EINTR does not cut short, and how long a test waits for one answer.
 */
#ifndef SEALSHM_SELFTESTS_LIB_NOW_H
#define SEALSHM_SELFTESTS_LIB_NOW_H

#include <stdint.h>

/* How long a test waits for one answer from trackerd or the peer helper
 * (also the raw client's socket timeouts). */
#define HELPER_IO_TIMEOUT_MS 5000

uint64_t helper_now_ms(void);

void helper_sleep_ms(unsigned int ms);

#endif /* SEALSHM_SELFTESTS_LIB_NOW_H */
