/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by lib/, trackerd/ and selftests/ (never installed):
 * kernel constants newer than Debian 12's headers, cleanup attributes,
 * argument checks, opts access and the flags each call accepts.  Each
 * private function of libsealshm (prefix sealshm__, as the static archive
 * exports them too) is declared in the header of the file that defines it.
 */
#ifndef SEALSHM_INTERNAL_H
#define SEALSHM_INTERNAL_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "include/sealshm.h"

/* --- kernel constants newer than Debian 12's headers ------------------- */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U		/* Linux 6.3 */
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020		/* Linux 6.3 */
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010	/* Linux 5.1 */
#endif

/* Seals every registered segment carries. */
#define SEALSHM_SEALS_REQUIRED (F_SEAL_SHRINK | F_SEAL_GROW)

/* --- which sealshm_opts.flags each call accepts ------------------------- */
/* Every flag; a call that only talks to trackerd takes all but POSIX. */
#define SEALSHM__FLAGS_ALL \
	(SEALSHM_RDONLY | SEALSHM_NO_TRACK | SEALSHM_NO_AUTOSTART | SEALSHM_LIFETIME_LAST | \
	 SEALSHM_POSIX | SEALSHM_RESERVE)
#define SEALSHM__FLAGS_TRACKERD	(SEALSHM__FLAGS_ALL & ~(SEALSHM_POSIX | SEALSHM_RESERVE))
/* A segment is created read-write (SEALSHM_RDONLY is for attach); the
 * lifetime and the reservation are chosen once, by the creator. */
#define SEALSHM__FLAGS_CREATE	(SEALSHM__FLAGS_ALL & ~SEALSHM_RDONLY)
#define SEALSHM__FLAGS_ATTACH	(SEALSHM__FLAGS_ALL & ~(SEALSHM_LIFETIME_LAST | SEALSHM_RESERVE))

/* --- cleanup (systemd style) -------------------------------------------- */
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		(void)close(fd);	/* Linux closes the fd even on EINTR */
		errno = saved;
	}
	return -EBADF;
}

static inline void closep(int *fd)
{
	safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

struct sealshm__mapping {
	void *addr;
	size_t len;
};
static inline void munmapp(struct sealshm__mapping *m)
{
	if (m->addr && m->addr != MAP_FAILED)
		(void)munmap(m->addr, m->len);
}
#define _cleanup_munmap_ _cleanup_(munmapp)

#define TAKE_GENERIC(var, type, nullvalue)		\
	({						\
		type *_pvar_ = &(var);			\
		type _var_ = *_pvar_;			\
		*_pvar_ = (nullvalue);			\
		_var_;					\
	})
#define TAKE_PTR(p) TAKE_GENERIC((p), typeof(p), NULL)
#define TAKE_FD(fd) TAKE_GENERIC((fd), int, -EBADF)

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* --- argument checks ----------------------------------------------------- */
/* Silent argument check for public entry points (systemd assert_return). */
#define sealshm__return_if_fail(expr, err)		\
	do {						\
		if (__builtin_expect(!(expr), 0))	\
			return sealshm__err(err);	\
	} while (0)

/* Public calls return a negative errno and also set errno (libbpf_err). */
static inline int sealshm__err(int ret)
{
	if (ret < 0)
		errno = -ret;
	return ret;
}

/* --- opts (libbpf style) ------------------------------------------------- */
/* True when every byte of @opts past what this library knows is zero. A
 * caller built against an older header passes a shorter struct: the fields
 * it lacks read as defaults through OPTS_GET(). A newer caller passes a
 * longer one: accepted only if it leaves every field we do not know at
 * zero, so a request for a feature we lack is never ignored. */
static inline bool sealshm__opts_valid(const void *opts, size_t opts_sz, size_t known_sz)
{
	const unsigned char *p = opts;

	for (size_t i = known_sz; i < opts_sz; i++)
		if (p[i] != 0)
			return false;
	return true;
}

#define OPTS_VALID(opts, type)						\
	(!(opts) || ((opts)->sz >= sizeof(size_t) &&			\
		     sealshm__opts_valid((opts), (opts)->sz,		\
			offsetof(struct type, type##__last_field) +	\
			sizeof(((struct type *)0)->type##__last_field))))
#define OPTS_HAS(opts, field)						\
	((opts) && (opts)->sz >= offsetof(typeof(*(opts)), field) +	\
					 sizeof((opts)->field))
#define OPTS_GET(opts, field, fallback_value)				\
	(OPTS_HAS(opts, field) ? (opts)->field : fallback_value)

#endif /* SEALSHM_INTERNAL_H */
