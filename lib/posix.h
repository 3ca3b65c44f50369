/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Classic POSIX segments (SEALSHM_POSIX): shm_open(3) in /dev/shm, named
 * "/" + name as CPython's SharedMemory names them; no trackerd, no
 * tracking, no seals.  Used by lib/segment.c.
 */
#ifndef SEALSHM_POSIX_H
#define SEALSHM_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sealshm__posix_seg {
	int fd;			/* O_CLOEXEC */
	void *addr;
	size_t size;
};

/* O_CREAT | O_EXCL | O_RDWR, ftruncate to @size (and with @reserve every
 * page allocated: reserve.h), map read-write.  On failure the name is
 * removed again.  -EEXIST when it is taken. */
int sealshm__posix_create(const char *name, size_t size, mode_t mode, bool reserve,
			  struct sealshm__posix_seg *ret);
/* Open, size from fstat() (-EBADMSG: not a regular file, or empty), map. */
int sealshm__posix_attach(const char *name, bool rdonly, struct sealshm__posix_seg *ret);
/* shm_unlink("/" + @name); with @only_ino not 0, only while the name is
 * the file of that inode number (-ENOENT otherwise). */
int sealshm__posix_unlink(const char *name, uint64_t only_ino);

#endif /* SEALSHM_POSIX_H */
