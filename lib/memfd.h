/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Size-sealed memfds: making one, checking one that came from elsewhere
 * before anyone maps it, and reopening one through /proc.  Used by lib/
 * (segments, the fast path, publishing) and by trackerd (CREATE, the
 * index, read-only attaches).
 */
#ifndef SEALSHM_MEMFD_H
#define SEALSHM_MEMFD_H

#include <stdint.h>
#include <sys/types.h>

/* -EFBIG when @size is above RLIMIT_FSIZE (checked before ftruncate(),
 * which would also raise SIGXFSZ and kill the caller), else 0. */
int sealshm__fsize_check(uint64_t size);

/* memfd_create(@debug_name) with MFD_CLOEXEC | MFD_ALLOW_SEALING, and
 * MFD_NOEXEC_SEAL where the kernel has it.  Returns the fd or -errno. */
int sealshm__memfd_create(const char *debug_name);

/* A segment: a new memfd of @size bytes named "sealshm:<name>", inode mode
 * @mode & 0666, sealed F_SEAL_SHRINK | F_SEAL_GROW.  Returns the fd or
 * -errno (-EINVAL for a bad size or mode, -EFBIG as above). */
int sealshm__memfd_new(const char *name, uint64_t size, mode_t mode);

/* Verify that @fd is a shmem file (memfd) of exactly @size bytes carrying at
 * least SEALSHM_SEALS_REQUIRED, before anyone maps it (so no SIGBUS).
 * Returns 0 and *@ret_seals (may be NULL), or -errno with *@ret_reason
 * (static text; may be NULL): -EBADF (not a memfd), -EINVAL (missing seals,
 * size mismatch). */
int sealshm__segment_check(int fd, uint64_t size, uint32_t *ret_seals, const char **ret_reason);

/* The same check, and the memfd must be inode @ino (-ESTALE otherwise):
 * the one a registration was made with. */
int sealshm__segment_check_inode(int fd, uint64_t size, uint64_t ino, uint32_t *ret_seals);

/* A new open file description of @fd with @flags (O_RDONLY or O_RDWR;
 * O_CLOEXEC | O_NOCTTY are added), through /proc/self/fd: the kernel checks
 * the inode's mode against the caller as for any open.  Returns the fd or
 * -errno. */
int sealshm__memfd_reopen(int fd, int flags);

#endif /* SEALSHM_MEMFD_H */
