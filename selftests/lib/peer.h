/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The exec'd peer helper (selftests/peer.c) from a test's side: run once
 * to its end (run_peer()), or kept alive and driven one command line at a
 * time (struct peer), so that a test decides when it exits, or kills it.
 */
#ifndef SEALSHM_SELFTESTS_LIB_PEER_H
#define SEALSHM_SELFTESTS_LIB_PEER_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

/* Run the peer helper with @args (NULL-terminated, without argv[0]) and the
 * current environment; its stdout (up to @outlen - 1 bytes) goes to @out
 * when non-NULL.  Every other fd of the test stays as it is, so check-fds
 * sees what exec really kept.  Returns its exit code (128 + signal), or
 * -errno. */
int run_peer(const char *const *args, char *out, size_t outlen);

/* An exec'd peer that lives until told to go: its stdin and stdout are
 * pipes to the test. */
struct peer {
	pid_t pid;			/* 0 when none */
	int in;				/* its stdin (write end) */
	int out;			/* its stdout (read end) */
	size_t len;			/* bytes buffered in buf */
	char buf[1024];
};

#define PEER_INIT { .pid = 0, .in = -EBADF, .out = -EBADF }

/* Start the peer helper with @args (NULL-terminated, without argv[0]).
 * @keep_fd >= 0 is inherited under its number; @session_env, when not NULL,
 * becomes $SEALSHM_SESSION in its environment.  The peer dies with the
 * calling thread (PDEATHSIG). */
int peer_start(struct peer *p, const char *const *args, int keep_fd,
	       const char *session_env);

/* Next line the peer printed (without the newline) into @line; waits up
 * to @timeout_ms.  Returns its length, -EPIPE on EOF, -ETIMEDOUT. */
int peer_line(struct peer *p, char *line, size_t len, unsigned int timeout_ms);

/* Send one command line to the peer and return its one-line answer in
 * @line (see peer.c).  Returns the answer's length or -errno. */
int peer_cmd(struct peer *p, const char *cmd, char *line, size_t len);

/* Let the peer go (EOF on its stdin: it exits at once, unlinking and
 * closing nothing) and reap it.  Returns its exit code. */
int peer_finish(struct peer *p, unsigned int timeout_ms);

/* SIGKILL it (if still running), reap, close the pipes. */
void peer_destroy(struct peer *p);

#endif /* SEALSHM_SELFTESTS_LIB_PEER_H */
