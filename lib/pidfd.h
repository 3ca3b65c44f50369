/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidfds: opening one, asking whether its process has exited, waiting for
 * that, taking an fd from it, and reading its pids from /proc.  Used by the
 * fast path and the manager in lib/, and by trackerd for a manager's owner.
 */
#ifndef SEALSHM_PIDFD_H
#define SEALSHM_PIDFD_H

#include <stdbool.h>
#include <sys/types.h>

/* Newer than Debian 12's headers. */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77			/* Linux 6.5 */
#endif

/* pidfd_open(2) of @pid (close-on-exec).  Returns the fd or -errno
 * (-ENOSYS before Linux 5.3). */
int sealshm__pidfd_open(pid_t pid);

/* pidfd_getfd(2): a close-on-exec copy of fd @target of the process behind
 * @pidfd.  Returns the fd or -errno (-EPERM without ptrace access, -EBADF
 * for no such fd, -ESRCH when the process has exited, -ENOSYS before 5.6). */
int sealshm__pidfd_getfd(int pidfd, int target);

/* Has the process behind @pidfd exited?  A pidfd polls readable then
 * (pidfd_open(2)); a zombie counts as exited, and so does an error. */
bool sealshm__pidfd_exited(int pidfd);

/* Wait up to @timeout_ms for the process behind @pidfd to exit (a pipe's
 * read end waits for its last writer).  Returns 1 when it has, 0 on
 * timeout, -errno on error. */
int sealshm__pidfd_wait(int pidfd, int timeout_ms);

/* Read /proc/self/fdinfo/@pidfd: *@ret_pid is the "Pid:" line (the process
 * in our pid namespace; 0 when it has exited or is not visible to us), and
 * *@ret_nspid the last field of "NSpid:" (its pid in its own, innermost
 * namespace; "Pid:" where there is no NSpid line).  Either may be NULL.
 * Returns 0, -ENOTTY when @pidfd is no pidfd (no "Pid:" line), or -errno. */
int sealshm__pidfd_pids(int pidfd, pid_t *ret_pid, pid_t *ret_nspid);

#endif /* SEALSHM_PIDFD_H */
