// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Inherited fds, the fd limit, and daemonizing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>

#include "daemon.h"
#include "internal.h"
#include "log.h"

void daemon_close_inherited_fds(int keep_fd)
{
	const char *e = getenv("LISTEN_PID");
	unsigned first = 3;

	if (e && strtol(e, NULL, 10) == getpid())
		first = 4;
	/* close_range() is Linux 5.9; without it the fds stay open. */
	if (keep_fd >= (int)first) {
		if ((unsigned)keep_fd > first)
			(void)close_range(first, (unsigned)keep_fd - 1, 0);
		first = (unsigned)keep_fd + 1;
	}
	(void)close_range(first, ~0U, 0);
}

/* fs.nr_open: the most fds a process may have (a hard limit above it is
 * refused). 0 when unreadable. */
static uint64_t nr_open(void)
{
	unsigned long long v = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* The soft limit is often 1024, too few for --max-clients connections plus
 * one fd per name, and a million names need a million fds. trackerd uses
 * no select(), so any number is fine. */
uint64_t daemon_raise_nofile(void)
{
	struct rlimit rl;
	uint64_t most = nr_open();

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (most > 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < most) {
		struct rlimit up = { .rlim_cur = most, .rlim_max = most };

		/* EPERM without the capability: the hard limit stays. */
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("Failed to raise the fd limit to %llu: %s",
				 (unsigned long long)rl.rlim_max, strerror(errno));
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
}

int daemon_detach(int *ret_ready_fd)
{
	_cleanup_close_ int null_fd = -EBADF;
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		safe_close(pfd[0]);
		safe_close(pfd[1]);
		return r;
	}
	if (pid > 0) {
		char c;
		ssize_t n;

		/* The parent only waits: the socket, the lock (an flock on
		 * a shared open file description) and the cleanup are the
		 * child's. _exit, so nothing of ours runs twice. */
		safe_close(pfd[1]);
		do
			n = read(pfd[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? EXIT_SUCCESS : EXIT_FAILURE);
	}

	safe_close(pfd[0]);
	if (setsid() < 0 || chdir("/") < 0)
		goto fail;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (null_fd < 0)
		goto fail;
	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
		goto fail;
	/* stderr stays until daemon_ready(): a failure to start still
	 * reaches whoever started us, who is waiting anyway. */

	*ret_ready_fd = pfd[1];
	return 0;
fail:
	safe_close(pfd[1]);
	return -errno;
}

void daemon_ready(int *ready_fd, bool keep_stderr)
{
	int null_fd;

	if (*ready_fd < 0)
		return;
	if (!keep_stderr) {
		null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (null_fd >= 0) {
			(void)dup2(null_fd, STDERR_FILENO);
			safe_close(null_fd);
		}
	}
	(void)!write(*ready_fd, "1", 1);
	*ready_fd = safe_close(*ready_fd);
}
