// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * peer: a small program the selftests exec, so that "another process" is a
 * real exec'd program with its own connection (and its own tracking
 * session, unless handed one through $SEALSHM_SESSION), using only the
 * public API.  trackerd is found through SEALSHM_SOCKET in the environment.
 *
 *   peer [OPTION...] COMMAND ...
 *
 * Options (before the command):
 *   --no-track        create/attach with SEALSHM_NO_TRACK
 *   --lifetime-last   create with SEALSHM_LIFETIME_LAST
 *   --mode=OCTAL      create with this mode (default 0600)
 *
 * One-shot commands:
 *   attach NAME OFFSET BYTE   attach read-write, write BYTE at OFFSET
 *   read NAME OFFSET          attach read-only, print the byte (decimal)
 *   size NAME                 attach read-only, print the size
 *   check-fds                 fail if any fd other than 0, 1, 2 is open
 *
 * Holding commands: print "ready PID SIZE", then answer one line per line
 * read from stdin, until EOF or "exit", when the peer exits at once (it
 * unlinks and closes nothing: what is left is for its session's end):
 *   create NAME SIZE          create, fill with peer_pattern()
 *   attach-hold NAME          attach read-write
 * Lines: "read OFF" -> the byte; "write OFF BYTE" -> ok; "unlink" -> ok or
 * "error -ERRNO"; "close" -> ok (the segment is closed); "cloexec" -> ok if
 * every fd above 2 is close-on-exec, else "fd N"; "exit".
 *
 * Exit codes: 0 ok, 1 a call failed (message on stderr), 2 usage,
 * 3 an unexpected fd is open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealshm.h"

/* The segment a holding command keeps: reachable from here, so that leak
 * checkers (SANITIZE=1) do not count the deliberate exit without close. */
static struct sealshm *volatile held;

static unsigned int opt_flags;
static unsigned long opt_mode = 0600;

static int parse_ulong(const char *s, unsigned long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoul(s, &end, 0);
	return errno || !*s || *end ? -1 : 0;
}

/* The bytes a holding "create" writes (tracking_test checks them). */
static unsigned char peer_pattern(size_t i)
{
	return (unsigned char)(i * 31 + 7);
}

static int cmd_attach(const char *name, const char *off_s, const char *byte_s, int rdonly)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = opt_flags | (rdonly ? SEALSHM_RDONLY : 0));
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

/* First fd above 2 that is not close-on-exec, or -1. */
static int first_inheritable_fd(void)
{
	struct dirent *de;
	int found = -1;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return -2;
	while ((de = readdir(d)) && found < 0) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
			continue;
		if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			found = fd;
	}
	closedir(d);
	return found;
}

/* Answer stdin's lines about @shm until EOF or "exit". */
static int serve(struct sealshm *shm)
{
	char line[256];

	held = shm;
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long off, byte;
		char a[32], b[32];
		int r;

		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "exit"))
			break;
		if (!strcmp(line, "unlink")) {
			r = shm ? sealshm_unlink(shm) : -EBADF;
			if (r < 0)
				printf("error %d\n", r);
			else
				printf("ok\n");
		} else if (!strcmp(line, "close")) {
			sealshm_close(shm);
			shm = held = NULL;
			printf("ok\n");
		} else if (!strcmp(line, "cloexec")) {
			r = first_inheritable_fd();
			if (r < 0)
				printf("ok\n");
			else
				printf("fd %d\n", r);
		} else if (sscanf(line, "read %31s", a) == 1 && shm && !parse_ulong(a, &off) &&
			   off < sealshm_size(shm)) {
			printf("%u\n", ((unsigned char *)sealshm_buf(shm))[off]);
		} else if (sscanf(line, "write %31s %31s", a, b) == 2 && shm &&
			   !parse_ulong(a, &off) && off < sealshm_size(shm) &&
			   !parse_ulong(b, &byte) && byte < 256) {
			((unsigned char *)sealshm_buf(shm))[off] = (unsigned char)byte;
			printf("ok\n");
		} else {
			printf("usage\n");
		}
		fflush(stdout);
	}
	/* No close, no unlink: the process simply ends. */
	return 0;
}

static int cmd_create(const char *name, const char *size_s)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = opt_flags, .mode = (unsigned int)opt_mode);
	struct sealshm *shm = NULL;
	unsigned long size;
	unsigned char *p;
	int r;

	if (parse_ulong(size_s, &size) < 0 || size == 0)
		return 2;
	r = sealshm_create(name, size, &opts, &shm);
	if (r < 0) {
		fprintf(stderr, "peer: Failed to create '%s': %s\n", name, strerror(-r));
		return 1;
	}
	p = sealshm_buf(shm);
	for (size_t i = 0; i < size; i++)
		p[i] = peer_pattern(i);
	printf("ready %d %zu\n", (int)getpid(), sealshm_size(shm));
	fflush(stdout);
	return serve(shm);
}

static int cmd_attach_hold(const char *name)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = opt_flags);
	struct sealshm *shm = NULL;
	int r;

	r = sealshm_attach(name, &opts, &shm);
	if (r < 0) {
		fprintf(stderr, "peer: Failed to attach '%s': %s\n", name, strerror(-r));
		return 1;
	}
	printf("ready %d %zu\n", (int)getpid(), sealshm_size(shm));
	fflush(stdout);
	return serve(shm);
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--no-track"))
			opt_flags |= SEALSHM_NO_TRACK;
		else if (!strcmp(argv[i], "--lifetime-last"))
			opt_flags |= SEALSHM_LIFETIME_LAST;
		else if (!strncmp(argv[i], "--mode=", 7) && !parse_ulong(argv[i] + 7, &opt_mode) &&
			 opt_mode <= 0777)
			;
		else
			goto usage;
	}
	argc -= i - 1;
	argv += i - 1;

	if (argc == 5 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv[2], argv[3], argv[4], 0);
	if (argc == 4 && !strcmp(argv[1], "read"))
		return cmd_attach(argv[2], argv[3], NULL, 1);
	if (argc == 3 && !strcmp(argv[1], "size"))
		return cmd_attach(argv[2], NULL, NULL, 1);
	if (argc == 2 && !strcmp(argv[1], "check-fds"))
		return cmd_check_fds();
	if (argc == 4 && !strcmp(argv[1], "create"))
		return cmd_create(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "attach-hold"))
		return cmd_attach_hold(argv[2]);
usage:
	fprintf(stderr, "usage: peer [--no-track] [--lifetime-last] [--mode=OCTAL] "
			"attach NAME OFFSET BYTE | read NAME OFFSET | size NAME | check-fds | "
			"create NAME SIZE | attach-hold NAME\n");
	return 2;
}
