// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fib_peer: attach to a segment by name, print it, change the last element.
 *
 *   fib_peer NAME
 *
 * The segment holds int64_t values (fib_owner writes 1 1 2 3 5 8); fib_peer
 * sets the last one to 888 and closes, leaving the name to its owner.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sealshm.h>

int main(int argc, char **argv)
{
	/* Attach without tracking: a tracked name is removed when the tracking
	 * process exits (CPython's resource-tracker rule), and the name belongs
	 * to fib_owner, not to us. */
	SEALSHM_OPTS(sealshm_opts, opts, .flags = SEALSHM_NO_TRACK);
	struct sealshm *shm = NULL;
	size_t count;
	int64_t *a;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: fib_peer NAME\n");
		return 2;
	}

	r = sealshm_attach(argv[1], &opts, &shm);
	if (r < 0) {
		fprintf(stderr, "fib_peer: cannot attach '%s': %s\n", argv[1], strerror(-r));
		return EXIT_FAILURE;
	}

	/* The size comes from the segment; trackerd and the library checked that
	 * it is sealed, so it cannot shrink under us (no SIGBUS). */
	count = sealshm_size(shm) / sizeof(int64_t);
	if (count == 0) {
		fprintf(stderr, "fib_peer: '%s' is too small (%zu bytes)\n", argv[1],
			sealshm_size(shm));
		(void)sealshm_close(shm);
		return EXIT_FAILURE;
	}

	a = sealshm_buf(shm);
	printf("fib_peer:  sees  ");
	for (size_t i = 0; i < count; i++)
		printf(" %" PRId64, a[i]);
	printf("\n");

	a[count - 1] = 888;
	printf("fib_peer:  set the last element to 888\n");

	r = sealshm_close(shm);
	if (r < 0) {
		fprintf(stderr, "fib_peer: cannot close '%s': %s\n", argv[1], strerror(-r));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
