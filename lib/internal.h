/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by lib/, trackerd/ and selftests/ (never installed):
 * cleanup attributes, argument checks, opts access, and the private
 * functions of libsealshm (prefix sealshm__, as the static archive
 * exports them too).
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
#include "proto.h"

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
	 SEALSHM_POSIX)
#define SEALSHM__FLAGS_TRACKERD	(SEALSHM__FLAGS_ALL & ~SEALSHM_POSIX)
/* A segment is created read-write (SEALSHM_RDONLY is for attach); the
 * lifetime is chosen once, by the creator. */
#define SEALSHM__FLAGS_CREATE	(SEALSHM__FLAGS_ALL & ~SEALSHM_RDONLY)
#define SEALSHM__FLAGS_ATTACH	(SEALSHM__FLAGS_ALL & ~SEALSHM_LIFETIME_LAST)

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

/* --- names (lib/name.c) -------------------------------------------------- */
/* Check @name as a user typed it: one leading '/' is dropped; what remains
 * must be 1..SEALSHM_NAME_MAX bytes of printable ASCII other than space and
 * '/', or well-formed UTF-8 beyond ASCII (no control characters).
 * On success *@ret_name points into @name past the '/'.  -EINVAL otherwise. */
int sealshm__name_check(const char *name, const char **ret_name);

/* Check a wire name field of SEALSHM_PROTO_NAME_SIZE bytes: NUL-terminated
 * inside the field, zero after the NUL, a valid name without leading '/'. */
int sealshm__name_check_wire(const char field[SEALSHM_PROTO_NAME_SIZE]);

/* Fill @buf (>= 13 bytes) with "psm_" + 8 random hex digits. */
int sealshm__name_random(char *buf, size_t len);

/* --- fd passing (lib/fdpass.c): the only place that touches SCM_RIGHTS --- */
/* Send one message of @len bytes (>= 1) with @nfds fds (<= SEALSHM_PROTO_FDS_MAX).
 * MSG_NOSIGNAL; @flags may add MSG_DONTWAIT.  Returns 0 or -errno. */
int sealshm__send(int sock, const void *buf, size_t len, const int *fds, size_t nfds, int flags);

/* Receive one message into @buf (@len bytes) and up to @max_fds fds (all
 * close-on-exec) into @fds, count in *@ret_nfds.  Returns the message
 * length, 0 at end of stream, or -errno: -EXFULL when the message did not
 * fit @buf (MSG_TRUNC), -ECHRNG when fds were cut (MSG_CTRUNC) or more than
 * @max_fds came; in both cases every received fd is closed first. */
ssize_t sealshm__recv(int sock, void *buf, size_t len, int *fds, size_t max_fds,
		      size_t *ret_nfds, int flags);

/* --- connection to trackerd (lib/conn.c, lib/autostart.c) -------------- */
/* Spawn trackerd (lib/spawn.c): default signal mask and dispositions,
 * stdin and stdout (and stderr unless @keep_stderr) on /dev/null, @fds[i]
 * on fd 3 + i (each source at or above 3 + @nfds), nothing else of the
 * caller's.  Returns 0 and the child's pid, or -errno. */
struct sealshm__spawn {
	const char *bin;
	char *const *argv;
	char *const *envp;	/* NULL: environ */
	const int *fds;
	size_t nfds;
	bool new_session;	/* its own session and process group */
	bool keep_stderr;
};
int sealshm__spawn(const struct sealshm__spawn *sp, pid_t *ret_pid);
/* The trackerd program: $SEALSHM_TRACKERD, else the installed one. */
const char *sealshm__trackerd_path(void);

/* Start a detached trackerd serving @path and return once it has either
 * bound the socket or found another one serving it. */
int sealshm__autostart(const char *path);

/* A connected, greeted (HELLO done) socket to the trackerd at @path, started
 * there first if @autostart allows and nobody answers.  Returns the fd. */
int sealshm__connect(const char *path, bool autostart);

/* One request/reply round trip on this process's connection to the trackerd
 * chosen by @opts.  The connection is opened (and trackerd started) on first
 * use and re-opened in a forked child, never shared with the parent.
 * @req's header type and size must be set; seq is filled in.  @fd (or -EBADF)
 * goes with the request; with a CREATE to a trackerd whose uid (its HELLO
 * reply's server_uid) is not our euid, so does the memfd's read-only twin,
 * an O_RDONLY reopen of @fd (proto.h; left out when we may not open it
 * either), so that trackerd can serve read-only attaches.  When @track_token is not NULL it points into @req:
 * the token of this process family's session with that trackerd is copied
 * there (the session is opened first if needed), and if trackerd answers
 * -ESTALE (the session is gone, e.g. an adopted one) a new session is opened
 * and the request sent once more.  The reply (at most @reply_len bytes) is
 * checked for type, seq and size.  Returns the reply's length on success,
 * its status when trackerd refused, or a transport error.  A received fd
 * (attach) is stored in *@ret_fd (-EBADF when none; @ret_fd may be NULL when
 * none is expected: any fd that comes anyway is closed). */
int sealshm__call(const struct sealshm_opts *opts, struct sealshm_msg_hdr *req, int fd,
		  uint8_t *track_token, void *reply, size_t reply_len, int *ret_fd);

/* --- managers (lib/manager.c) ------------------------------------------
 * conn.c, lock held, right after HELLO on a new connection to @path:
 * present the auth key of the manager at @path (AUTH) when this process
 * holds a manager handle for it.  Returns 0 (also when it holds none), or
 * -EACCES (wrong key), -EOPNOTSUPP (no manager there), a transport error. */
int sealshm__manager_greet(const char *path, int fd);

/* --- tracking sessions (lib/session.c) ----------------------------------
 * One session per trackerd socket path per process family: a connection
 * that has sent SESSION, inherited by fork() (the child keeps it: that is
 * the point), close-on-exec.  An exec'd program adopts the one named by
 * $SEALSHM_SESSION ("FD:TOKENHEX") when that fd is a socket connected to
 * the same path.  Called with conn.c's lock held. */
int sealshm__session_token(const char *path, bool autostart,
			   uint8_t ret_token[SEALSHM_PROTO_TOKEN_SIZE]);
/* Drop the session for @path (trackerd no longer knows it). */
void sealshm__session_forget(const char *path);

/* --- ShareableList (lib/list.c) ----------------------------------------- */
/* The attach-time check of a list in @buf (@size bytes): N, every offset,
 * format and code against @size, reading nothing outside it.
 * Returns N (>= 0) or -EBADMSG.  For the fuzzer and the tests. */
int sealshm__list_validate(const void *buf, size_t size);

/* A list over caller memory @buf (validated as above), no segment under it
 * (sealshm_list_shm() gives NULL; close frees only the handle).  For the
 * fuzzer and the tests.  Returns 0, -EBADMSG or -ENOMEM. */
struct sealshm_list;
int sealshm__list_open_buf(void *buf, size_t size, bool rdonly, struct sealshm_list **ret);
/* --- end of ShareableList ------------------------------------------------- */

/* Convert a wire info to the public struct. */
void sealshm__info_from_wire(struct sealshm_info *info, const struct sealshm_wire_info *w);

/* --- classic POSIX segments (lib/posix.c): SEALSHM_POSIX ----------------
 * shm_open(3) in /dev/shm, named "/" + @name as CPython's SharedMemory
 * names them; no trackerd, no tracking, no seals.  Used by lib/segment.c. */
struct sealshm__posix_seg {
	int fd;			/* O_CLOEXEC */
	void *addr;
	size_t size;
};
/* O_CREAT | O_EXCL | O_RDWR, ftruncate to @size, map read-write.  On
 * failure the name is removed again.  -EEXIST when it is taken. */
int sealshm__posix_create(const char *name, size_t size, mode_t mode,
			  struct sealshm__posix_seg *ret);
/* Open, size from fstat() (-EBADMSG: not a regular file, or empty), map. */
int sealshm__posix_attach(const char *name, bool rdonly, struct sealshm__posix_seg *ret);
/* shm_unlink("/" + @name). */
int sealshm__posix_unlink(const char *name);
/* True for a handle of the POSIX backend (sealshm_seal() refuses those). */
bool sealshm__is_posix(const struct sealshm *shm);

#endif /* SEALSHM_INTERNAL_H */
