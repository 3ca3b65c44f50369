/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SipHash-2-4 (Aumasson, Bernstein 2012): a keyed hash for tables whose keys
 * come from clients (names, session tokens). With a random key nobody can
 * choose keys that collide, nor learn a key from where it lands.
 */
#ifndef TRACKERD_SIPHASH_H
#define TRACKERD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit SipHash-2-4 of @len bytes at @data under the 128-bit @key. */
uint64_t siphash24(const void *data, size_t len, const uint64_t key[2]);

#endif /* TRACKERD_SIPHASH_H */
