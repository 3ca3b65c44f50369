// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "now.h"
#include "files.h"
#include "process.h"

int helper_reap(pid_t pid, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (helper_now_ms() >= end) {
			(void)kill(pid, SIGKILL);
			if (waitpid(pid, &status, 0) == pid)
				return status;
			return -errno;
		}
		helper_sleep_ms(5);
	}
}

void helper_kill_reap(pid_t *pid)
{
	if (*pid > 0) {
		(void)kill(*pid, SIGKILL);
		(void)waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

int helper_exit_code(int status)
{
	if (status < 0)
		return status;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -EIO;
}

int helper_reap_code(pid_t *pid, unsigned int timeout_ms)
{
	int rc = helper_exit_code(helper_reap(*pid, timeout_ms));

	*pid = 0;
	return rc;
}

bool helper_pidns_allowed(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(unshare(CLONE_NEWPID) == 0 ? 0 : 1);
	return helper_exit_code(helper_reap(pid, 5000)) == 0;
}

bool helper_pid_alive(pid_t pid)
{
	char path[64], *stat = NULL, *p;
	bool alive;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (helper_read_file(path, &stat) < 0)
		return false;
	p = strrchr(stat, ')');
	alive = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	free(stat);
	return alive;
}

int helper_find_trackerds(const char *needle, pid_t *pids, int max)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX], buf[8192];
		bool match = false;
		ssize_t len;
		size_t a0;
		pid_t pid;
		int fd;

		pid = atoi(de->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;	/* kernel thread or zombie */
		buf[len] = '\0';
		a0 = strlen(buf);
		if (a0 < 8 || strcmp(buf + a0 - 8, "trackerd"))
			continue;
		for (ssize_t i = 0; i < len; i += (ssize_t)strlen(buf + i) + 1)
			if (strstr(buf + i, needle))
				match = true;
		if (!match || !helper_pid_alive(pid))
			continue;
		if (n < max)
			pids[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}

int helper_kill_trackerds(const char *needle)
{
	pid_t pids[16];
	int n = helper_find_trackerds(needle, pids, 16);

	for (int i = 0; i < n && i < 16; i++) {
		uint64_t end = helper_now_ms() + 3000;

		(void)kill(pids[i], SIGTERM);
		while (helper_pid_alive(pids[i]) && helper_now_ms() < end)
			helper_sleep_ms(10);
		if (helper_pid_alive(pids[i]))
			(void)kill(pids[i], SIGKILL);
	}
	return n;
}

int run_child(int (*fn)(const void *), const void *arg, unsigned int timeout_ms)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(arg));
	}
	return helper_exit_code(helper_reap(pid, timeout_ms));
}

struct helper_as_user {
	uid_t uid;
	gid_t gid;
	int (*fn)(void);
};

static int helper_as_user_child(const void *arg)
{
	const struct helper_as_user *u = arg;

	if (setgroups(0, NULL) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		return 100;
	return u->fn();
}

int run_as_user(uid_t uid, gid_t gid, int (*fn)(void))
{
	const struct helper_as_user u = { .uid = uid, .gid = gid, .fn = fn };

	return run_child(helper_as_user_child, &u, 10000);
}
