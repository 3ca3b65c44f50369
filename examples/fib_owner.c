// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fib_owner: create a named segment, fill it, let another program change it.
 *
 *   fib_owner [NAME]        (default name "sealshm-demo")
 *
 * Creates a segment holding six int64_t (1 1 2 3 5 8), prints them, runs
 * fib_peer (found next to this program) with the name and waits for it, then
 * prints the array again: fib_peer changed the last element to 888.  Finally
 * it unlinks the name and closes the segment.
 *
 * Build: cc fib_owner.c $(pkg-config --cflags --libs sealshm) -o fib_owner
 * No trackerd needs to be started by hand: the library starts a per-user one.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sealshm.h>

#define COUNT 6

static void print_array(const char *when, const int64_t *a)
{
	printf("fib_owner: %-6s", when);
	for (int i = 0; i < COUNT; i++)
		printf(" %" PRId64, a[i]);
	printf("\n");
	fflush(stdout);		/* before the child writes to the same stdout */
}

/* The path of fib_peer: the directory of /proc/self/exe, plus "/fib_peer". */
static int peer_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	if ((size_t)snprintf(buf, len, "%s/fib_peer", dirname(self)) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Run fib_peer NAME and wait for it.  Returns 0 if it exited with status 0. */
static int run_peer(const char *name)
{
	char path[PATH_MAX];
	int status, r;
	pid_t pid;

	r = peer_path(path, sizeof(path));
	if (r < 0)
		return r;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* The segment's fd is close-on-exec: the peer gets nothing but
		 * the name, and asks trackerd for the segment itself. */
		execl(path, "fib_peer", name, (char *)NULL);
		fprintf(stderr, "fib_owner: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -ECHILD;
	return 0;
}

int main(int argc, char **argv)
{
	static const int64_t fib[COUNT] = { 1, 1, 2, 3, 5, 8 };
	const char *name = argc > 1 ? argv[1] : "sealshm-demo";
	struct sealshm *shm = NULL;
	int64_t *a;
	int r, ret = EXIT_FAILURE;

	/* NULL opts: defaults (mode 0600, tracked, trackerd found or started). */
	r = sealshm_create(name, sizeof(fib), NULL, &shm);
	if (r < 0) {
		fprintf(stderr, "fib_owner: cannot create '%s': %s\n", name, strerror(-r));
		return EXIT_FAILURE;
	}

	/* The mapping is exactly sizeof(fib) bytes and can never shrink. */
	a = sealshm_buf(shm);
	memcpy(a, fib, sizeof(fib));
	printf("fib_owner: created '%s', %zu bytes\n", sealshm_name(shm), sealshm_size(shm));
	print_array("before", a);

	r = run_peer(name);
	if (r < 0) {
		fprintf(stderr, "fib_owner: fib_peer failed: %s\n", strerror(-r));
		goto out;
	}

	/* Same pages: what the peer wrote is visible here. */
	print_array("after", a);
	ret = EXIT_SUCCESS;

out:
	/* Remove the name; the mapping stays valid until sealshm_close(). */
	r = sealshm_unlink(shm);
	if (r < 0) {
		fprintf(stderr, "fib_owner: cannot unlink '%s': %s\n", name, strerror(-r));
		ret = EXIT_FAILURE;
	} else {
		printf("fib_owner: unlinked '%s'\n", name);
	}
	r = sealshm_close(shm);
	if (r < 0) {
		fprintf(stderr, "fib_owner: cannot close '%s': %s\n", name, strerror(-r));
		ret = EXIT_FAILURE;
	}
	return ret;
}
