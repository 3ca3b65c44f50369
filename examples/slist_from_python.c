// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * slist_from_python: read a list that a Python program wrote.
 *
 *   slist_from_python SCRIPT       e.g. slist_from_python examples/slist_writer.py
 *
 * Runs "python3 SCRIPT NAME" (NAME made up here), which creates a
 * multiprocessing.shared_memory.ShareableList called NAME and exits; then
 * attaches to it with SEALSHM_POSIX (CPython's segments are shm_open(3)
 * files in /dev/shm), prints every item and the format, and unlinks it.
 *
 * Build: cc slist_from_python.c $(pkg-config --cflags --libs sealshm) -o slist_from_python
 * No trackerd is involved: a POSIX segment is never registered.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sealshm.h>

static void print_item(int64_t i, const struct sealshm_item *it)
{
	const unsigned char *p = it->u.s.ptr;

	printf("  [%" PRId64 "] ", i);
	switch (it->type) {
	case SEALSHM_ITEM_INT:
		printf("int    %" PRId64 "\n", it->u.i);
		break;
	case SEALSHM_ITEM_FLOAT:
		printf("float  %g\n", it->u.f);
		break;
	case SEALSHM_ITEM_BOOL:
		printf("bool   %s\n", it->u.b ? "True" : "False");
		break;
	case SEALSHM_ITEM_NONE:
		printf("none   None\n");
		break;
	case SEALSHM_ITEM_STR:
		printf("str    '%.*s'\n", (int)it->u.s.len, (const char *)it->u.s.ptr);
		break;
	case SEALSHM_ITEM_BYTES:
		printf("bytes  b'");
		for (size_t k = 0; k < it->u.s.len; k++)
			printf(p[k] >= 0x20 && p[k] < 0x7f && p[k] != '\'' && p[k] != '\\' ?
			       "%c" : "\\x%02x", p[k]);
		printf("'\n");
		break;
	}
}

/* python3 SCRIPT NAME; 0 when it exited 0. */
static int run_writer(const char *script, const char *name)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("python3", "python3", script, name, (char *)NULL);
		fprintf(stderr, "slist_from_python: cannot run python3: %s\n", strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

int main(int argc, char **argv)
{
	SEALSHM_OPTS(sealshm_opts, opts, .flags = SEALSHM_POSIX);
	struct sealshm_slist *list = NULL;
	char name[64], format[256];
	char buf[4096];
	int n, r;

	if (argc != 2) {
		fprintf(stderr, "usage: slist_from_python SCRIPT   (e.g. examples/slist_writer.py)\n");
		return 2;
	}
	snprintf(name, sizeof(name), "list_from_python_%d", (int)getpid());

	r = run_writer(argv[1], name);
	if (r < 0) {
		fprintf(stderr, "slist_from_python: %s %s failed\n", argv[1], name);
		/* It may have created the list before failing. */
		(void)sealshm_unlink_name(name, &opts);
		return 1;
	}

	r = sealshm_slist_attach(name, &opts, &list);
	if (r < 0) {
		fprintf(stderr, "slist_from_python: attach %s: %s\n", name, strerror(-r));
		(void)sealshm_unlink_name(name, &opts);
		return 1;
	}
	/* Python is done with the name: unlinking now leaves our mapping. */
	r = sealshm_unlink(sealshm_slist_shm(list));
	if (r < 0)
		fprintf(stderr, "slist_from_python: unlink %s: %s\n", name, strerror(-r));

	n = sealshm_slist_len(list);
	printf("slist_from_python: %d items in %s:\n", n, name);
	for (int64_t i = 0; i < n; i++) {
		struct sealshm_item it;

		/* A copy: safe even if a writer were still changing it. */
		r = sealshm_slist_get_copy(list, i, buf, sizeof(buf), &it);
		if (r < 0) {
			fprintf(stderr, "slist_from_python: item %" PRId64 ": %s\n", i, strerror(-r));
			sealshm_slist_close(list);
			return 1;
		}
		print_item(i, &it);
	}
	if (sealshm_slist_format(list, format, sizeof(format)) >= 0)
		printf("slist_from_python: format '%s'\n", format);
	sealshm_slist_close(list);
	return 0;
}
