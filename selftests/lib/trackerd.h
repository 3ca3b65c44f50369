/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A private trackerd for a test: a temp directory with its socket and
 * log, the daemon started (possibly under a wrapper such as valgrind) and
 * waited for until it answers HELLO, the library pointed at it, its log
 * searched, and its stop and cleanup.  Also what a test passes to a
 * trackerd it starts another way: a listening socket, the seccomp mode.
 */
#ifndef SEALSHM_SELFTESTS_LIB_TRACKERD_H
#define SEALSHM_SELFTESTS_LIB_TRACKERD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct trackerd {
	pid_t pid;			/* 0 when not running */
	char dir[64];			/* mkdtemp() directory, "" when none */
	char sock[128];			/* DIR/trackerd.sock */
	char log[128];			/* DIR/trackerd.log (its stderr) */
};

/* Make the temp directory and paths only (for tests that start trackerd
 * some other way, or never). */
int trackerd_prepare(struct trackerd *t);

/* Wait up to @timeout_ms until trackerd @t->pid (our child) serves
 * @t->sock.  0; -ECHILD when it exited first, -ETIMEDOUT (then it is
 * killed); either way it is reaped and @t->pid is 0. */
int trackerd_wait_up(struct trackerd *t, unsigned int timeout_ms);

/* Fork and exec `[wrapper...] trackerd --foreground --socket
 * DIR/trackerd.sock [extra...]` with stderr to DIR/trackerd.log; it dies with
 * the test (PDEATHSIG).  Waits up to @timeout_ms until the socket accepts a
 * connection.  @wrapper (a program that runs trackerd, such as valgrind, with
 * its options; argv[0] a path) and @extra are NULL or NULL-terminated lists. */
int trackerd_spawn_wrapped(struct trackerd *t, const char *const *wrapper,
			   const char *const *extra, unsigned int timeout_ms);

/* trackerd_spawn_wrapped() with no wrapper and 5 s to come up. */
int trackerd_spawn(struct trackerd *t, const char *const *extra);

/* trackerd_prepare() and trackerd_spawn(). */
int trackerd_start(struct trackerd *t, const char *const *extra);

/* Open this process family's session with the trackerd of $SEALSHM_SOCKET
 * now (so that fd baselines include it): sealshm_session_export() opens
 * it; the copy it returns is closed. */
int helper_session_open(void);

/* Point the library at @t: $SEALSHM_SOCKET, and $SEALSHM_NO_AUTOSTART so a
 * mistake cannot start a per-user daemon instead.  Opens nothing. */
int trackerd_use(const struct trackerd *t);

/* trackerd_use(), then open the library's cached request connection with
 * one sealshm_registry_list(), which must list nothing (-ENOTEMPTY).  0 or -errno. */
int trackerd_connect_requests(const struct trackerd *t);

/* trackerd_connect_requests(), then open the tracking session, so that
 * both are part of the fd baseline.  Returns this process's fd count after
 * that (> 0), or -errno. */
int trackerd_connect(const struct trackerd *t);

/* SIGTERM and reap (SIGKILL after 5 s).  Returns the exit code (128+sig if
 * killed), 0 if it was not running. */
int trackerd_stop(struct trackerd *t);

/* Stop it if running and remove the temp dir. */
void trackerd_cleanup(struct trackerd *t);

/* The daemon's log so far (malloc()ed; "" when empty). */
char *trackerd_log(const struct trackerd *t);

/* True when a line of the log contains every one of the NULL-terminated
 * strings; waits up to @timeout_ms for it to be written. */
bool trackerd_log_has_line(const struct trackerd *t, unsigned int timeout_ms, ...);

/* Lines of the daemon's log containing every one of the NULL-terminated
 * strings. */
int trackerd_log_count(const struct trackerd *t, ...);

/* Id of the session @pid opened ("session N opened by pid P (uid U)"),
 * waiting up to @timeout_ms for the line; -ENOENT when none. */
int64_t trackerd_log_session_id(const struct trackerd *t, pid_t pid,
				unsigned int timeout_ms);

/* --seccomp=kill, except in sanitizer builds ($SEALSHM_TEST_SANITIZE=1):
 * LeakSanitizer's exit-time stop-the-world (clone, ptrace) is off the
 * allow-list and would be killed, so there it is --seccomp=log. */
const char *helper_seccomp_arg(void);

/* A bound, listening AF_UNIX socket of @type at @path, close-on-exec, to
 * pass to a trackerd as a service manager does (the child makes it its
 * fd 3 with helper_dup_to(), which clears the flag there).  fd or -errno. */
int helper_listen_unix(const char *path, int type);

#endif /* SEALSHM_SELFTESTS_LIB_TRACKERD_H */
