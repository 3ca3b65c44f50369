/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ShareableList internals that the fuzzer and the tests reach.
 */
#ifndef SEALSHM_SLIST_H
#define SEALSHM_SLIST_H

#include <stdbool.h>
#include <stddef.h>

struct sealshm_slist;

/* The attach-time check of a list in @buf (@size bytes): N, every offset,
 * format and code against @size, reading nothing outside it.
 * Returns N (>= 0) or -EBADMSG. */
int sealshm__slist_validate(const void *buf, size_t size);

/* A list over caller memory @buf (validated as above), no segment under it
 * (sealshm_slist_shm() gives NULL; close frees only the handle).  Returns 0,
 * -EBADMSG or -ENOMEM. */
int sealshm__slist_open_buf(void *buf, size_t size, bool rdonly, struct sealshm_slist **ret);

#endif /* SEALSHM_SLIST_H */
