// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "now.h"
#include "fds.h"

/* fds this program inherited (a make jobserver pipe, a shell's fd 10) are
 * not the library's: mark them close-on-exec at startup so that checks of
 * "no fd survives exec" and "every fd is CLOEXEC" see only ours.  It lives
 * here, beside helper_count_fds(), which every test program calls: so the
 * linker takes this file, constructor and all, from the archive. */
__attribute__((constructor)) static void helper_cloexec_inherited(void)
{
	(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
}

int helper_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0, self;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/fd");
	else
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	self = pid == 0 ? dirfd(d) : -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (atoi(de->d_name) == self)
			continue;
		n++;
	}
	closedir(d);
	return n;
}

int helper_wait_fds(pid_t pid, int want, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;
	int n;

	for (;;) {
		n = helper_count_fds(pid);
		if (n == want || helper_now_ms() >= end)
			return n;
		helper_sleep_ms(10);
	}
}

int helper_socket_inodes(unsigned long *inos, int max)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char p[PATH_MAX], target[128];
		ssize_t len;
		unsigned long ino;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
		len = readlink(p, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%lu]", &ino) == 1 && n < max)
			inos[n++] = ino;
	}
	closedir(d);
	return n;
}

int helper_raise_nofile(unsigned int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur >= n)
		return 0;
	if (rl.rlim_max < n) {
		if (setrlimit(RLIMIT_NOFILE, &(struct rlimit){ n, n }) == 0)
			return 0;
		return -EMFILE;
	}
	rl.rlim_cur = n;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

int helper_memfd(uint64_t size, unsigned int seals)
{
	int fd = memfd_create("sealshm-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int r;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int reopen_fd(int fd, int flags)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = open(path, flags | O_CLOEXEC);
	return r < 0 ? -errno : r;
}
