/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Values and arrays (lib/array.c): the layout of an array's header, for
 * the tests, and the type objects.c describes (object.h).
 * Documentation/objects.md restates the layout.
 */
#ifndef SEALSHM_ARRAY_H
#define SEALSHM_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "include/sealshm.h"
#include "object.h"

/* Bytes of the header; the lock, if any, follows it whole. */
#define SEALSHM__ARRAY_HDR_SIZE	64u

struct sealshm__array_hdr {
	struct sealshm__object_hdr hdr;	/* type SEALSHM_OBJECT_ARRAY, size 64 */
	uint64_t length;		/* items, >= 1 */
	uint32_t item_size;		/* bytes of an item */
	uint32_t typecode;		/* 'd', ...; 0: a caller's struct */
	uint32_t flags;			/* SEALSHM_ARRAY_LOCK, _RLOCK, _VALUE */
	uint32_t item_align;		/* alignment of an item (power of 2, <= 16) */
	uint32_t data_offset;		/* of the first item, from the header */
	uint32_t __reserved[5];		/* 0 */
};
_Static_assert(sizeof(struct sealshm__array_hdr) == SEALSHM__ARRAY_HDR_SIZE, "array header size");
_Static_assert(offsetof(struct sealshm__array_hdr, length) == 16, "array length offset");
_Static_assert(offsetof(struct sealshm__array_hdr, item_size) == 24, "array item_size offset");
_Static_assert(offsetof(struct sealshm__array_hdr, typecode) == 28, "array typecode offset");
_Static_assert(offsetof(struct sealshm__array_hdr, flags) == 32, "array flags offset");
_Static_assert(offsetof(struct sealshm__array_hdr, item_align) == 36, "array item_align offset");
_Static_assert(offsetof(struct sealshm__array_hdr, data_offset) == 40, "array data_offset offset");

extern const struct sealshm__type sealshm__array_type;

#endif /* SEALSHM_ARRAY_H */
