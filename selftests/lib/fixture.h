/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What reports through the kselftest harness (EXPECT_*, TH_LOG, which need
 * the test's _metadata): the set-up and teardown every fixture with a
 * private trackerd shares, and the checks they are made of (the registry is
 * empty, trackerd's log when a test failed, trackerd stops cleanly).
 * Include it after kselftest_harness.h; the library's .c files never do, as
 * the harness header defines main() and globals.
 */
#ifndef SEALSHM_SELFTESTS_LIB_FIXTURE_H
#define SEALSHM_SELFTESTS_LIB_FIXTURE_H

#ifndef __KSELFTEST_HARNESS_H
#error "include kselftest_harness.h before lib/fixture.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "sealshm.h"
#include "holder.h"
#include "fds.h"
#include "registry.h"
#include "trackerd.h"

/* In a fixture teardown: nothing is left in the registry ($SEALSHM_SOCKET's
 * trackerd); names that are get logged, with their count of tracking
 * sessions.  A macro, as EXPECT and TH_LOG need the test's _metadata. */
#define EXPECT_REGISTRY_EMPTY()							\
	do {									\
		struct sealshm_info *infos_ = NULL;				\
		int n_ = sealshm_registry_list(NULL, &infos_);				\
										\
		EXPECT_EQ(0, n_) {						\
			for (int i_ = 0; i_ < n_; i_++)				\
				TH_LOG("left in the registry: '%s' (%u sessions)", \
				       infos_[i_].name, infos_[i_].n_sessions);	\
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

/* How long a fixture's teardown waits for trackerd to settle: to unlink the
 * names of tracking sessions that ended with the test's processes, and to
 * close the connections the test hung up. */
#define TRACKERD_FIXTURE_SETTLE_MS 5000

/* trackerd_fixture_setup() flags: what the library does not open before
 * the baselines are taken. */
#define TRACKERD_FIXTURE_NO_CLIENT  (1u << 0)	/* no connection: a client keeps
						 * --idle-exit from exiting */
#define TRACKERD_FIXTURE_NO_SESSION (1u << 1)	/* no tracking session: for a test
						 * process that never tracks */
#define TRACKERD_FIXTURE_HOLDER     (1u << 2)	/* also this process's holder (the
						 * shared objects): its connection
						 * lives as long as the process */

/*
 * The set-up of every fixture with a private trackerd: start @t with @extra
 * (NULL-terminated, or NULL), point the library at it and open the
 * library's request connection and tracking session, unless @flags says
 * otherwise, so that they belong to the baselines.  Then take the
 * baselines trackerd_fixture_teardown() compares with: this process's fd
 * count into *@fds_before, and trackerd's into *@daemon_fds_before unless
 * that is NULL.  Asserts: a failure ends the set-up.
 */
static inline void trackerd_fixture_setup(struct __test_metadata *_metadata, struct trackerd *t,
					  const char *const *extra, unsigned int flags,
					  int *fds_before, int *daemon_fds_before)
{
	int r = trackerd_start(t, extra);

	if (r == 0 && (flags & TRACKERD_FIXTURE_NO_CLIENT))
		r = trackerd_use(t);
	else if (r == 0 && (flags & TRACKERD_FIXTURE_NO_SESSION))
		r = trackerd_connect_requests(t);
	else if (r == 0)
		r = trackerd_connect(t);
	if (r >= 0 && (flags & TRACKERD_FIXTURE_HOLDER)) {
		const struct sealshm__holder *h;

		r = sealshm__holder_get(NULL, &h);
	}
	ASSERT_LE(0, r) {
		TH_LOG("starting trackerd: %s", strerror(-r));
	}
	*fds_before = helper_count_fds(0);
	ASSERT_GT(*fds_before, 0);
	if (daemon_fds_before) {
		*daemon_fds_before = helper_count_fds(t->pid);
		ASSERT_GT(*daemon_fds_before, 0);
	}
}

/*
 * The teardown of every fixture with a private trackerd, once the test's
 * own fds and handles are closed: this process holds @fds_before fds again;
 * while trackerd runs, its registry empties (names left are logged) and,
 * when @daemon_fds_before > 0, trackerd holds that many fds again; then it
 * exits 0 on SIGTERM, its log is shown if the test failed, and its temp dir
 * goes.  A test that stopped trackerd itself has checked what it wanted of
 * it.
 */
static inline void trackerd_fixture_teardown(struct __test_metadata *_metadata,
					     struct trackerd *t, int fds_before,
					     int daemon_fds_before)
{
	EXPECT_EQ(fds_before, helper_count_fds(0));
	if (t->pid > 0) {
		(void)helper_wait_names(0, TRACKERD_FIXTURE_SETTLE_MS);
		EXPECT_REGISTRY_EMPTY();
		if (daemon_fds_before > 0)
			EXPECT_EQ(daemon_fds_before,
				  helper_wait_fds(t->pid, daemon_fds_before,
						  TRACKERD_FIXTURE_SETTLE_MS));
	}
	EXPECT_TRACKERD_STOPS(t);
}

#endif /* SEALSHM_SELFTESTS_LIB_FIXTURE_H */
