// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * manager_workers: two worker processes share the work on one list that a
 * manager owns, as in the example of Python's SharedMemoryManager:
 *
 *   with SharedMemoryManager() as smm:
 *       sl = smm.ShareableList(range(2000))
 *       p1 = Process(target=do_work, args=(sl, 0, 1000))
 *       p2 = Process(target=do_work, args=(sl, 1000, 2000))
 *       p1.start(); p2.start(); p1.join(); p2.join()
 *       total_result = sum(sl)
 *
 * The parent starts a manager (a private trackerd that lives no longer than
 * the parent), creates the list [0, 1, ..., 1999] through it, and forks two
 * workers.  Each worker connects to the manager by its address, attaches
 * the list by name and squares the items of its half.  The parent sums the
 * list, checks the sum, and leaves the block: the cleanup attribute shuts
 * the manager down, which unlinks the list (Python's "with" block).
 *
 * Build: cc manager_workers.c $(pkg-config --cflags --libs sealshm) -o manager_workers
 * trackerd is the installed one, or $SEALSHM_TRACKERD.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sealshm.h>

#define N_ITEMS 2000

/* A worker: square items [start, stop) of the list @name of the manager at
 * @address. */
static int do_work(const char *address, const char *name, int64_t start, int64_t stop)
{
	struct sealshm_manager *mgr = NULL;
	struct sealshm_slist *list = NULL;
	int r;

	/* Not the parent's handle: a process of its own reaches the manager
	 * by address (and would give the auth key here, if it had one). */
	r = sealshm_manager_connect(address, NULL, &mgr);
	if (r < 0) {
		fprintf(stderr, "manager_workers: connect %s: %s\n", address, strerror(-r));
		return 1;
	}
	r = sealshm_manager_slist_attach(mgr, name, 0, &list);
	for (int64_t i = start; r >= 0 && i < stop; i++) {
		struct sealshm_item it;

		r = sealshm_slist_get(list, i, &it);
		if (r < 0)
			break;
		it.u.i *= it.u.i;
		r = sealshm_slist_set(list, i, &it);
	}
	if (r < 0)
		fprintf(stderr, "manager_workers: worker %d: %s: %s\n", (int)getpid(), name,
			strerror(-r));
	sealshm_slist_close(list);
	/* Close, not shut down: the manager and its list are the parent's. */
	sealshm_manager_close(mgr);
	return r < 0 ? 1 : 0;
}

int main(void)
{
	/* Python's "with SharedMemoryManager() as smm:": shut down at the end
	 * of the block, whichever way main() leaves it. */
	__attribute__((cleanup(sealshm_manager_shutdownp))) struct sealshm_manager *mgr = NULL;
	const int64_t expect = (int64_t)(N_ITEMS - 1) * N_ITEMS * (2 * N_ITEMS - 1) / 6;
	static struct sealshm_item items[N_ITEMS];
	struct sealshm_slist *list = NULL;
	const char *name;
	int64_t sum = 0;
	pid_t pids[2];
	int r, rc = 0;

	r = sealshm_manager_start(NULL, &mgr);
	if (r < 0) {
		fprintf(stderr, "manager_workers: start a manager: %s\n", strerror(-r));
		return 1;
	}

	/* sl = smm.ShareableList(range(2000)) */
	for (int i = 0; i < N_ITEMS; i++)
		items[i] = (struct sealshm_item){ .type = SEALSHM_ITEM_INT, .u.i = i };
	r = sealshm_manager_slist_create(mgr, items, N_ITEMS, &list);
	if (r < 0) {
		fprintf(stderr, "manager_workers: create the list: %s\n", strerror(-r));
		return 1;
	}
	name = sealshm_name(sealshm_slist_shm(list));
	printf("manager_workers: manager pid %d at %s, list '%s' of %d items\n",
	       (int)sealshm_manager_pid(mgr), sealshm_manager_address(mgr), name, N_ITEMS);
	fflush(stdout);		/* before the children write to the same stdout */

	/* Divide the work between two processes. */
	for (int w = 0; w < 2; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			char address[108], lname[SEALSHM_NAME_MAX + 1];

			/* The child's copies of the parent's handles: closing
			 * a forked copy frees only the copy (the parent's
			 * manager and list stay), and leaves the worker
			 * holding nothing it did not open itself. */
			snprintf(address, sizeof(address), "%s", sealshm_manager_address(mgr));
			snprintf(lname, sizeof(lname), "%s", name);
			sealshm_slist_close(list);
			sealshm_manager_close(mgr);
			mgr = NULL;
			_exit(do_work(address, lname, w * N_ITEMS / 2, (w + 1) * N_ITEMS / 2));
		}
		if (pids[w] < 0) {
			fprintf(stderr, "manager_workers: fork: %s\n", strerror(errno));
			rc = 1;
		}
	}
	for (int w = 0; w < 2; w++) {
		int status;

		if (pids[w] > 0 && (waitpid(pids[w], &status, 0) < 0 || !WIFEXITED(status) ||
				    WEXITSTATUS(status) != 0)) {
			fprintf(stderr, "manager_workers: worker %d failed\n", w + 1);
			rc = 1;
		}
	}

	/* total_result = sum(sl) */
	for (int64_t i = 0; i < N_ITEMS; i++) {
		struct sealshm_item it;

		if (sealshm_slist_get(list, i, &it) < 0 || it.type != SEALSHM_ITEM_INT) {
			rc = 1;
			break;
		}
		sum += it.u.i;
	}
	printf("manager_workers: sum of squares %" PRId64 " (expected %" PRId64 ")\n", sum, expect);
	if (sum != expect)
		rc = 1;

	sealshm_slist_close(list);
	return rc;	/* the manager shuts down here, unlinking the list */
}
