/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process trackerd runs in: closing the fds it inherited by accident,
 * raising its fd limit, and becoming a daemon (fork, a new session, stdin
 * and stdout on /dev/null) whose parent waits until it serves.
 */
#ifndef TRACKERD_DAEMON_H
#define TRACKERD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

/* Close every fd from 3 on but systemd's socket (fd 3, when LISTEN_PID is
 * ours) and @keep_fd (negative: none): what whoever started us leaked (a
 * pipe kept open in a daemon would make a shell's $(...) wait forever). */
void daemon_close_inherited_fds(int keep_fd);

/* Raise RLIMIT_NOFILE's soft limit to the hard one, and with
 * CAP_SYS_RESOURCE the hard one to fs.nr_open first; a failure is logged.
 * Returns the soft limit that applies (UINT64_MAX: none). */
uint64_t daemon_raise_nofile(void);

/* Fork; the parent waits until the child calls daemon_ready() and exits
 * 0, or 1 if the child dies first. Returns 0 in the child, in a new
 * session, in /, with stdin and stdout on /dev/null, and *@ret_ready_fd
 * the pipe to the parent; or -errno (no child then). */
int daemon_detach(int *ret_ready_fd);

/* Tell the waiting parent that we serve, and close *@ready_fd (nothing
 * when it is negative). Unless @keep_stderr (--log), stderr goes to
 * /dev/null from now on: whoever started us no longer listens. */
void daemon_ready(int *ready_fd, bool keep_stderr);

#endif /* TRACKERD_DAEMON_H */
