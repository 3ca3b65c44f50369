// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * slist_share: two processes share one list.
 *
 *   slist_share [-p] [NAME]       (default name "sealshm-list-demo")
 *
 * The parent creates a list [0, 'waiting', 0.0, False, None] named NAME
 * and prints it; a child process attaches to it by name, writes a counter,
 * a new string, a float, a bool and an int in place of None (the item's
 * type changes), and exits; the parent prints the list again and unlinks
 * the name.  -p uses a POSIX segment (SEALSHM_POSIX, /dev/shm), the kind a
 * Python program opens with ShareableList(name=NAME).
 *
 * A str slot keeps the size its first value gave it (a multiple of 8
 * bytes): 'waiting' gets 8 bytes, so 'finished' (8 bytes) fits and
 * 'finished!' would be refused with E2BIG, as in CPython.
 *
 * Build: cc slist_share.c $(pkg-config --cflags --libs sealshm) -o slist_share
 * Without -p the library starts a per-user trackerd if none runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sealshm.h>

#define STR(lit) { .type = SEALSHM_ITEM_STR, .u.s = { (lit), sizeof(lit) - 1 } }

static void print_list(const char *who, const struct sealshm_slist *list)
{
	char format[128];
	int n = sealshm_slist_len(list);

	printf("slist_share: %-7s [", who);
	for (int64_t i = 0; i < n; i++) {
		struct sealshm_item it;
		char buf[64];

		if (sealshm_slist_get_copy(list, i, buf, sizeof(buf), &it) < 0) {
			printf("%s?", i ? ", " : "");
			continue;
		}
		printf("%s", i ? ", " : "");
		switch (it.type) {
		case SEALSHM_ITEM_INT:
			printf("%" PRId64, it.u.i);
			break;
		case SEALSHM_ITEM_FLOAT:
			printf("%g", it.u.f);
			break;
		case SEALSHM_ITEM_BOOL:
			printf("%s", it.u.b ? "True" : "False");
			break;
		case SEALSHM_ITEM_NONE:
			printf("None");
			break;
		case SEALSHM_ITEM_STR:
			printf("'%s'", buf);
			break;
		case SEALSHM_ITEM_BYTES:
			printf("b'%.*s'", (int)it.u.s.len, buf);
			break;
		}
	}
	if (sealshm_slist_format(list, format, sizeof(format)) < 0)
		format[0] = '\0';
	printf("]  format '%s'\n", format);
	fflush(stdout);		/* before the child writes to the same stdout */
}

/* The child: attach by name, change every item, close. */
static int child(const char *name, const struct sealshm_opts *opts)
{
	const struct sealshm_item done = STR("finished");
	const struct sealshm_item too_long = STR("finished!");
	struct sealshm_item v;
	struct sealshm_slist *list = NULL;
	int r;

	r = sealshm_slist_attach(name, opts, &list);
	if (r < 0) {
		fprintf(stderr, "slist_share: child: attach %s: %s\n", name, strerror(-r));
		return 1;
	}
	for (int i = 0; i < 1000; i++) {
		(void)sealshm_slist_get(list, 0, &v);
		v.u.i++;
		(void)sealshm_slist_set(list, 0, &v);
	}
	r = sealshm_slist_set(list, 1, &done);
	if (!r)
		r = sealshm_slist_set(list, 2, &(struct sealshm_item){ .type = SEALSHM_ITEM_FLOAT,
								      .u.f = 2.5 });
	if (!r)
		r = sealshm_slist_set(list, -2, &(struct sealshm_item){ .type = SEALSHM_ITEM_BOOL,
								       .u.b = 1 });
	if (!r)
		r = sealshm_slist_set(list, -1, &(struct sealshm_item){ .type = SEALSHM_ITEM_INT,
								       .u.i = (int64_t)getpid() });
	if (r < 0) {
		fprintf(stderr, "slist_share: child: set: %s\n", strerror(-r));
		sealshm_slist_close(list);
		return 1;
	}
	/* Too long for its slot: refused, the item stays "finished". */
	r = sealshm_slist_set(list, 1, &too_long);
	printf("slist_share: child   set [1] = 'finished!': %s (pid %d)\n",
	       r == -E2BIG ? "refused, E2BIG" : "unexpected", (int)getpid());
	fflush(stdout);		/* _exit() does not */
	sealshm_slist_close(list);
	return r == -E2BIG ? 0 : 1;
}

int main(int argc, char **argv)
{
	SEALSHM_OPTS(sealshm_opts, opts);
	const struct sealshm_item items[] = {
		{ .type = SEALSHM_ITEM_INT, .u.i = 0 },
		STR("waiting"),
		{ .type = SEALSHM_ITEM_FLOAT, .u.f = 0.0 },
		{ .type = SEALSHM_ITEM_BOOL, .u.b = 0 },
		{ .type = SEALSHM_ITEM_NONE },
	};
	const char *name = "sealshm-list-demo";
	struct sealshm_slist *list = NULL;
	int opt, status, r, rc = 0;
	pid_t pid;

	while ((opt = getopt(argc, argv, "p")) != -1) {
		if (opt != 'p') {
			fprintf(stderr, "usage: slist_share [-p] [NAME]\n");
			return 2;
		}
		opts.flags |= SEALSHM_POSIX;
	}
	if (optind < argc)
		name = argv[optind];

	r = sealshm_slist_create(name, items, sizeof(items) / sizeof(items[0]), &opts, &list);
	if (r < 0) {
		fprintf(stderr, "slist_share: create %s: %s\n", name, strerror(-r));
		return 1;
	}
	print_list("before", list);

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(child(name, &opts));
	if (pid < 0 || waitpid(pid, &status, 0) < 0 ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "slist_share: the child failed\n");
		rc = 1;
	}
	print_list("after", list);

	r = sealshm_unlink(sealshm_slist_shm(list));
	if (r < 0) {
		fprintf(stderr, "slist_share: unlink %s: %s\n", name, strerror(-r));
		rc = 1;
	}
	sealshm_slist_close(list);
	return rc;
}
