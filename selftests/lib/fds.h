/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * File descriptors: counting a process's open fds (the leak checks of
 * every fixture), waiting for a daemon's count to settle, this process's
 * sockets, and a memfd made without the library.  Linking this file also
 * marks the fds a test program inherited close-on-exec at start-up.
 */
#ifndef SEALSHM_SELFTESTS_LIB_FDS_H
#define SEALSHM_SELFTESTS_LIB_FDS_H

#include <stdint.h>
#include <sys/types.h>

/* Number of open fds of @pid (0: this process), not counting the one used
 * to read the directory.  Negative errno on failure. */
int helper_count_fds(pid_t pid);

/* Wait up to @timeout_ms for @pid's fd count to become @want (a daemon
 * closes a connection only after it has seen the hangup).  Returns the last
 * count seen. */
int helper_wait_fds(pid_t pid, int want, unsigned int timeout_ms);

/* Collect the inode numbers of this process's sockets ("socket:[ino]")
 * into @inos (up to @max); returns how many. */
int helper_socket_inodes(unsigned long *inos, int max);

/* Let this process open at least @n fds: RLIMIT_NOFILE's soft limit raised
 * to @n, and the hard one too when it is lower and we may (root).  0, or
 * -EMFILE when the hard limit is lower and stays so, or -errno. */
int helper_raise_nofile(unsigned int n);

/* A memfd of @size bytes with @seals (no library involved). */
int helper_memfd(uint64_t size, unsigned int seals);

/* An O_RDONLY (or @flags) open of @fd through /proc, or -errno. */
int reopen_fd(int fd, int flags);

#endif /* SEALSHM_SELFTESTS_LIB_FDS_H */
