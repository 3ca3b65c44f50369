/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What reports through the kselftest harness (EXPECT_*, TH_LOG, which need
 * the test's _metadata), for fixture teardowns: the registry is empty,
 * trackerd's log when a test failed, trackerd stops cleanly.  Include it
 * after kselftest_harness.h; the library's .c files never do, as the
 * harness header defines main() and globals.
 */
#ifndef SEALSHM_SELFTESTS_LIB_FIXTURE_H
#define SEALSHM_SELFTESTS_LIB_FIXTURE_H

#ifndef __KSELFTEST_HARNESS_H
#error "include kselftest_harness.h before lib/fixture.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "sealshm.h"
#include "trackerd.h"

/* In a fixture teardown: nothing is left in the registry ($SEALSHM_SOCKET's
 * trackerd); names that are get logged.  A macro, as EXPECT and TH_LOG need
 * the test's _metadata. */
#define EXPECT_REGISTRY_EMPTY()							\
	do {									\
		struct sealshm_info *infos_ = NULL;				\
		int n_ = sealshm_list(NULL, &infos_);				\
										\
		EXPECT_EQ(0, n_) {						\
			for (int i_ = 0; i_ < n_; i_++)				\
				TH_LOG("left in the registry: '%s'", infos_[i_].name); \
		}								\
		free(infos_);							\
	} while (0)

/* In a fixture teardown: when the test failed, show trackerd's log, or its
 * last 6000 bytes (the end of a long log is what matters).  A macro, as
 * TH_LOG needs the test's _metadata. */
#define TH_LOG_TRACKERD_ON_FAILURE(t)						\
	do {									\
		if (!_metadata->passed) {					\
			char *log_ = trackerd_log(t);				\
			size_t len_ = log_ ? strlen(log_) : 0;			\
										\
			TH_LOG("trackerd log%s:\n%s",				\
			       len_ > 6000 ? " (last 6000 bytes)" : "",	\
			       len_ > 6000 ? log_ + len_ - 6000 : log_ ? log_ : "");	\
			free(log_);						\
		}								\
	} while (0)

/* The end of a fixture teardown with a private trackerd @t: it exits 0 on
 * SIGTERM, its log is shown when the test failed, its temp dir goes.  A
 * macro, as EXPECT and TH_LOG need the test's _metadata. */
#define EXPECT_TRACKERD_STOPS(t)						\
	do {									\
		EXPECT_EQ(0, trackerd_stop(t));					\
		TH_LOG_TRACKERD_ON_FAILURE(t);					\
		trackerd_cleanup(t);						\
	} while (0)

#endif /* SEALSHM_SELFTESTS_LIB_FIXTURE_H */
