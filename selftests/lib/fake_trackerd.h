/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake trackerd: a forked child that speaks lib/proto.h on a socket of
 * the test's and answers a registry listing with the names it was given,
 * as they are.  It stands for a trackerd of another version, or a hostile
 * one, that holds names a current trackerd refuses (control characters,
 * bidirectional overrides, bytes that are no UTF-8), so that a test can run
 * the library and the real tools against what such a trackerd sends.
 *
 * It answers what a listing asks, with real messages:
 *   HELLO  the reply of SEALSHM_PROTO_VERSION (another version: -EPROTO,
 *          with ours, then the connection is closed, as trackerd does);
 *   LIST   every name in one page (next_cursor 0), each with a plausible
 *          info record: the i-th name (from 0) has 4096 * (i + 1) bytes,
 *          inode 1000 + i, the test's uid and gid, mode 0600, the seals
 *          shrink and grow, created when the fake started by the fake;
 *   STAT   the record of the name asked for, -ENOENT when it has none;
 *   STATS  the count and bytes of its names, its connections and their
 *          limit, its pid and start; zero for the rest (no sessions,
 *          requests or refusals);
 * and refuses everything else with a header-only -EOPNOTSUPP reply (the
 * fast path's INDEX, SESSION, CREATE, ...), keeping the connection.  A
 * request of an unknown type or the wrong size is answered -EBADMSG, one
 * before HELLO -EPROTO, and the connection closed; one too big for any
 * request, or with more fds than one may bring, just closes it.
 */
#ifndef SEALSHM_SELFTESTS_LIB_FAKE_TRACKERD_H
#define SEALSHM_SELFTESTS_LIB_FAKE_TRACKERD_H

#include <sys/types.h>

struct fake_trackerd {
	pid_t pid;			/* 0 when not running */
	char sock[128];			/* the socket it listens on */
};

#define FAKE_TRACKERD_INIT { .pid = 0 }

/* Connections it serves at once; more are closed as they come. */
#define FAKE_TRACKERD_CONNS	16
/* A fake nobody sent a request for this long was left behind: it exits. */
#define FAKE_TRACKERD_IDLE_MS	60000

/* STAT answers every name with the record of the first name (a trackerd
 * that answers a question nobody asked). */
#define FAKE_TRACKERD_STAT_FIRST (1u << 0)

/*
 * Start a fake trackerd on @path (in the test's temp directory) that lists
 * @names (NULL-terminated, at most SEALSHM_PROTO_LIST_PAGE of them) byte for
 * byte, as @flags (FAKE_TRACKERD_*) say.  A name of SEALSHM_PROTO_NAME_SIZE
 * bytes or more fills its field to the end, with no NUL: a field that is
 * broken, not merely a name a trackerd would refuse.
 *
 * The socket is bound and listening when this returns: no wait for it to
 * come up.  The fake holds no other fd of the test (a copy of a session
 * would keep it open), dies with the calling thread (PDEATHSIG) and exits on
 * its own after FAKE_TRACKERD_IDLE_MS without a request.  0 or -errno
 * (-E2BIG: too many names).
 */
int fake_trackerd_start(struct fake_trackerd *f, const char *path, const char *const *names,
			unsigned int flags);

/*
 * Stop it (SIGTERM; SIGKILL after HELPER_IO_TIMEOUT_MS), reap it and remove
 * its socket.  Returns its exit code: 0 when it served until told to stop,
 * 1 when it failed (a socket error, out of memory), 2 when it had exited
 * for idleness; 0 when it was not running.
 */
int fake_trackerd_stop(struct fake_trackerd *f);

#endif /* SEALSHM_SELFTESTS_LIB_FAKE_TRACKERD_H */
