/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading clocks and sleeping, in nanoseconds, for lib/ and trackerd.
 */
#ifndef SEALSHM_CLOCK_H
#define SEALSHM_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC	1000000000LL
#define NSEC_PER_MSEC	1000000LL
#define NSEC_PER_USEC	1000LL

/* @clock now, in nanoseconds (0 if it cannot be read, which for the
 * clocks we use means never). */
static inline int64_t sealshm__now_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Sleep about @ns; a signal only cuts it short (callers loop on a
 * deadline anyway). */
static inline void sealshm__sleep_ns(int64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / NSEC_PER_SEC,
		.tv_nsec = ns % NSEC_PER_SEC,
	};

	if (ns > 0)
		(void)nanosleep(&ts, NULL);
}

#endif /* SEALSHM_CLOCK_H */
