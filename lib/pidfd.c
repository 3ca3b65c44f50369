// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pidfd helpers (pidfd_open(2), pidfd_getfd(2), fdinfo).
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "clock.h"
#include "internal.h"
#include "pidfd.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434		/* Linux 5.3 */
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438		/* Linux 5.6 */
#endif

int sealshm__pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);	/* close-on-exec */

	return fd < 0 ? -errno : fd;
}

int sealshm__pidfd_getfd(int pidfd, int target)
{
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, target, 0);	/* close-on-exec */

	return fd < 0 ? -errno : fd;
}

bool sealshm__pidfd_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;	/* an error: treat it as gone too */
}

int sealshm__pidfd_wait(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int64_t end = sealshm__now_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * NSEC_PER_MSEC;

	for (;;) {
		int64_t left = end - sealshm__now_ns(CLOCK_MONOTONIC);
		int r = poll(&p, 1, left > 0 ? (int)((left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC) : 0);

		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* The last of the numbers that start @s ("\t1\t42\n": 42), -1 when
 * there is none. */
static long last_field(const char *s)
{
	long v = -1;

	for (const char *p = s;;) {
		char *end;
		long n = strtol(p, &end, 10);

		if (end == p)
			return v;
		v = n;
		p = end;
	}
}

int sealshm__pidfd_pids(int pidfd, pid_t *ret_pid, pid_t *ret_nspid)
{
	char path[sizeof("/proc/self/fdinfo/") + 3 * sizeof(int)], buf[1024];
	_cleanup_close_ int fd = -EBADF;
	long pid, nspid;
	ssize_t n;
	char *p;

	(void)snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';

	/* fdinfo starts with "pos:", so every key we want follows a newline. */
	p = strstr(buf, "\nPid:");
	if (!p)
		return -ENOTTY;
	pid = last_field(p + sizeof("\nPid:") - 1);
	p = strstr(buf, "\nNSpid:");
	nspid = p ? last_field(p + sizeof("\nNSpid:") - 1) : pid;

	/* -1: exited (Linux 6.9+ says so), 0: not in our namespace. */
	if (ret_pid)
		*ret_pid = pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
	if (ret_nspid)
		*ret_nspid = nspid > 0 && nspid <= INT_MAX ? (pid_t)nspid : 0;
	return 0;
}
