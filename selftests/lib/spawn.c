// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "now.h"
#include "spawn.h"

pid_t spawn_child(int (*fn)(void *arg, int i), void *arg, int i)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(arg, i));
	}
	return pid;
}

bool helper_wait_count(const uint32_t *word, uint32_t n, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < n)
		if (helper_now_ms() > end)
			return false;
		else
			usleep(200);
	return true;
}

/* The first line of /proc/@pid/@what, NUL-terminated, or "". */
static void read_proc(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	(void)close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

bool helper_in_futex_wait(pid_t pid)
{
	char stat[512], wchan[128];
	const char *p;

	read_proc(pid, "stat", stat, sizeof(stat));
	p = strrchr(stat, ')');		/* the name may hold spaces and ')' */
	if (!p || p[1] != ' ' || p[2] != 'S')
		return false;
	read_proc(pid, "wchan", wchan, sizeof(wchan));
	/* "0" or "" when the kernel hides it: state S is all we know. */
	return !wchan[0] || !strcmp(wchan, "0") || strstr(wchan, "futex");
}

int helper_wait_futex_sleepers(const pid_t *pids, int n, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		int asleep = 0;

		for (int i = 0; i < n; i++)
			asleep += helper_in_futex_wait(pids[i]);
		if (asleep == n)
			return 0;
		if (helper_now_ms() >= end)
			return -ETIMEDOUT;
		helper_sleep_ms(5);
	}
}
