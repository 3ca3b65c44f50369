// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * peer: a small program the selftests exec, so that "another process" is a
 * real exec'd program with its own connection, using only the public API.
 * trackerd is found through SEALSHM_SOCKET in the environment.
 *
 *   peer attach NAME OFFSET BYTE   attach read-write, write BYTE at OFFSET
 *   peer read NAME OFFSET          attach read-only, print the byte (decimal)
 *   peer size NAME                 attach read-only, print the size
 *   peer check-fds                 fail if any fd other than 0, 1, 2 is open
 *
 * Exit codes: 0 ok, 1 a call failed (message on stderr), 2 usage,
 * 3 an unexpected fd is open.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealshm.h"

static int parse_ulong(const char *s, unsigned long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoul(s, &end, 0);
	return errno || !*s || *end ? -1 : 0;
}

static int cmd_attach(const char *name, const char *off_s, const char *byte_s, int rdonly)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = rdonly ? SEALSHM_RDONLY : 0);
	struct sealshm *shm = NULL;
	unsigned long off, byte = 0;
	int r;

	if (off_s && parse_ulong(off_s, &off) < 0)
		return 2;
	if (byte_s && (parse_ulong(byte_s, &byte) < 0 || byte > 255))
		return 2;

	r = sealshm_attach(name, &opts, &shm);
	if (r < 0) {
		fprintf(stderr, "peer: Failed to attach '%s': %s\n", name, strerror(-r));
		return 1;
	}
	if (off_s && off >= sealshm_size(shm)) {
		fprintf(stderr, "peer: offset %lu beyond '%s' (%zu bytes)\n", off, name,
			sealshm_size(shm));
		sealshm_close(shm);
		return 1;
	}
	if (!off_s)
		printf("%zu\n", sealshm_size(shm));
	else if (byte_s)
		((unsigned char *)sealshm_buf(shm))[off] = (unsigned char)byte;
	else
		printf("%u\n", ((unsigned char *)sealshm_buf(shm))[off]);
	sealshm_close(shm);
	return 0;
}

static int cmd_check_fds(void)
{
	struct dirent *de;
	int bad = 0;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d) {
		perror("peer: opendir /proc/self/fd");
		return 1;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX], target[PATH_MAX];
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd <= 2 || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		fprintf(stderr, "peer: inherited fd %d -> %s\n", fd, target);
		bad = 1;
	}
	closedir(d);
	return bad ? 3 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv[2], argv[3], argv[4], 0);
	if (argc == 4 && !strcmp(argv[1], "read"))
		return cmd_attach(argv[2], argv[3], NULL, 1);
	if (argc == 3 && !strcmp(argv[1], "size"))
		return cmd_attach(argv[2], NULL, NULL, 1);
	if (argc == 2 && !strcmp(argv[1], "check-fds"))
		return cmd_check_fds();
	fprintf(stderr, "usage: peer attach NAME OFFSET BYTE | read NAME OFFSET | size NAME | check-fds\n");
	return 2;
}
