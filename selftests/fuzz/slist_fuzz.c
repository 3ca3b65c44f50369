// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the ShareableList attach-time validator,
 * sealshm__slist_validate(), on a segment's bytes as another process (a
 * CPython program, or a hostile one) left them, in-process with ASan and
 * UBSan.  The input is the whole segment, copied to a heap buffer of
 * exactly its size so that any read past the end is caught.
 *
 * A list the validator accepts must then work through the public calls
 * without a single read or write outside the buffer: len, format, get and
 * get_copy of every item (each must succeed: nothing changed since the
 * check), count and index, a set that is too long (refused, the buffer
 * unchanged), a set of every item to its own value (what a set writes is
 * still a valid list of the same length), and a set to a value the input
 * chooses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "slist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(uint8_t *buf, size_t size, int n)
{
	struct sealshm_slist *l = NULL;
	struct sealshm_item it, big;
	uint8_t *before, *copy;
	bool bad_utf8;
	char *fmt;
	int r;

	if (sealshm__slist_open_buf(buf, size, false, &l) < 0)
		abort();
	if (sealshm_slist_len(l) != n || sealshm_slist_shm(l) != NULL)
		abort();

	fmt = malloc(8 * (size_t)n + 1);
	before = malloc(size);
	copy = malloc(size + 1);
	if (!fmt || !before || !copy)
		abort();
	r = sealshm_slist_format(l, fmt, 8 * (size_t)n + 1);
	if (r < 0 || (size_t)r > 8 * (size_t)n || strlen(fmt) != (size_t)r)
		abort();

	for (int i = 0; i < n; i++) {
		if (sealshm_slist_get(l, i, &it) < 0 || sealshm_slist_get(l, i - n, &it) < 0)
			abort();
		r = sealshm_slist_get_copy(l, i, copy, size + 1, &it);
		if (r < 0)
			abort();
		/* Found at or before i, or not at all (NaN equals nothing);
		 * foreign "str" bytes that are not UTF-8 are no str to look for. */
		bad_utf8 = it.type == SEALSHM_ITEM_STR;
		r = sealshm_slist_index(l, &it);
		if (!((r >= 0 && r <= i) || r == -ENOENT || (r == -EINVAL && bad_utf8)))
			abort();
		r = sealshm_slist_count(l, &it);
		if (!(r >= 0 || (r == -EINVAL && bad_utf8)))
			abort();
		if (it.type == SEALSHM_ITEM_STR || it.type == SEALSHM_ITEM_BYTES) {
			/* One byte more than the slot: refused, nothing written. */
			struct sealshm_item s;

			if (sealshm_slist_get(l, i, &s) < 0)
				abort();
			memcpy(before, buf, size);
			big = (struct sealshm_item){ .type = SEALSHM_ITEM_BYTES };
			big.u.s.ptr = copy;
			big.u.s.len = size + 1 <= 9999991 ? size + 1 : 9999991;
			r = sealshm_slist_set(l, i, &big);
			if (r == 0 && big.u.s.len > size)
				abort();
			if (r < 0 && memcmp(before, buf, size))
				abort();
		}
		/* Its own value back (a view of the slot itself for str and
		 * bytes, so overlapping) is always accepted... */
		if (sealshm_slist_get(l, i, &it) < 0)
			abort();
		r = sealshm_slist_set(l, i, &it);
		if (r < 0 && !(r == -EINVAL && it.type == SEALSHM_ITEM_STR))
			abort();	/* (foreign bytes may not be UTF-8) */
	}
	/* ...and a value of the input's choosing at the input's index. */
	if (n > 0 && size >= 17) {
		struct sealshm_item v = { .type = 1 + buf[size - 1] % 6 };
		int64_t idx = (int8_t)buf[size - 2];

		memcpy(&v.u.i, buf + size - 10, 8);
		if (v.type == SEALSHM_ITEM_BOOL)
			v.u.b &= 1;
		if (v.type == SEALSHM_ITEM_STR || v.type == SEALSHM_ITEM_BYTES) {
			v.type = SEALSHM_ITEM_BYTES;
			v.u.s.ptr = copy;
			v.u.s.len = buf[size - 3] % 32;
			memset(copy, 'z', v.u.s.len);
		}
		(void)sealshm_slist_set(l, idx, &v);
	}
	/* Whatever the sets wrote, the list is still valid and as long. */
	if (sealshm__slist_validate(buf, size) != n)
		abort();

	free(fmt);
	free(before);
	free(copy);
	sealshm_slist_close(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = sealshm__slist_validate(buf, size);
	if (r != -EBADMSG && r < 0)
		abort();
	if (r >= 0)
		exercise(buf, size, r);
	free(buf);
	return 0;
}
