/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SipHash-2-4, the keyed hash of every table whose keys come from clients:
 * trackerd's registry and sessions, and the published index (the library
 * hashes a name as trackerd does to look it up there).
 */
#ifndef SEALSHM_SIPHASH_H
#define SEALSHM_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of @len bytes of @data with @key. */
uint64_t sealshm__siphash(const void *data, size_t len, const uint64_t key[2]);

#endif /* SEALSHM_SIPHASH_H */
