/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sealshm: named, size-sealed shared memory segments for Linux.
 *
 * A segment is a memfd whose size is sealed (F_SEAL_SHRINK | F_SEAL_GROW).
 * Its name lives in trackerd, a small registry daemon that keeps one fd per
 * name and hands copies to other processes over a UNIX socket.
 *
 * Conventions (see sealshm(7)):
 *  - every call that can fail returns a negative errno (and sets errno to
 *    its absolute value); results go through the last argument, written only
 *    on success;
 *  - options are passed as a pointer to a struct whose first field is its
 *    size; NULL means defaults.  Use SEALSHM_OPTS() to declare one;
 *  - every fd the library creates is close-on-exec.
 */
#ifndef SEALSHM_H
#define SEALSHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SEALSHM_API
#define SEALSHM_API __attribute__((visibility("default")))
#endif

/* Longest name, in bytes, without the terminating NUL. */
#define SEALSHM_NAME_MAX 255

/* Declare and zero an opts struct, set its size and the given fields:
 *   SEALSHM_OPTS(sealshm_opts, o, .mode = 0640);  then pass &o. */
#define SEALSHM_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		__builtin_memset(&NAME, 0, sizeof(struct TYPE));	\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };\
	})

/* sealshm_opts.flags */
#define SEALSHM_RDONLY		(1u << 0) /* attach: map read-only, receive an O_RDONLY fd */
#define SEALSHM_NO_TRACK	(1u << 1) /* create/attach: do not track the name (track=False) */
#define SEALSHM_NO_AUTOSTART	(1u << 2) /* do not start a per-user trackerd if none answers */
/* create: the name lives until the LAST session tracking it ends, instead of
 * going when the first one ends (CPython's rule, the default). */
#define SEALSHM_LIFETIME_LAST	(1u << 3)
/* create/attach/unlink: a classic POSIX segment (shm_open(3) in /dev/shm,
 * named as CPython names them), not a memfd named by trackerd: for sharing
 * with Python programs.  Not size-sealed; never tracked by trackerd. */
#define SEALSHM_POSIX		(1u << 4)
/* create: allocate every page now, charged to the caller's memory cgroup,
 * and fail with -ENOMEM when the machine or the caller's memory cgroup has
 * not that much available, instead of a SIGBUS or an OOM kill when a page
 * is first touched (the default: pages come on first touch). */
#define SEALSHM_RESERVE		(1u << 5)

struct sealshm_opts {
	size_t sz;		/* sizeof(struct sealshm_opts) */
	uint32_t flags;		/* SEALSHM_* flags above */
	uint32_t mode;		/* create: permission bits of the name, 0 = 0600 */
	const char *socket;	/* trackerd's socket path; NULL = default lookup */
	/* sealshm_unlink_name(): 0, or remove the name only while it names
	 * the segment whose memfd (or /dev/shm file) has this inode number
	 * (fstat() of sealshm_fd(), sealshm_info.ino), else -ENOENT.  Other
	 * calls ignore it. */
	uint64_t ino;
	size_t :0;
};
#define sealshm_opts__last_field ino

struct sealshm;

/*
 * Create a segment of exactly @size bytes and register it as @name
 * (NULL: a generated "psm_" + 8 hex digits name, retried on collision).
 * One leading '/' in @name is accepted and dropped.  The memory is zeroed.
 * On success *@ret owns the mapping and fd; release with sealshm_close().
 * Errors: -EINVAL (size 0, bad name or opts), -EEXIST (name taken),
 * -ENOMEM, -EMFILE, -ECONNREFUSED/-ENOENT (no trackerd answers and autostart
 * is disabled or failed), -ENOPKG (none answers and the trackerd program to
 * start is missing: sealshm_trackerd_path()), -EPROTO (trackerd speaks
 * another protocol), -EDQUOT.
 */
SEALSHM_API int sealshm_create(const char *name, size_t size, const struct sealshm_opts *opts,
			       struct sealshm **ret);

/*
 * Attach to the segment registered as @name.  The size comes from the
 * segment.  With SEALSHM_RDONLY the mapping is PROT_READ and the fd O_RDONLY.
 * Errors: -ENOENT (no such name), -EACCES (mode bits refuse the caller),
 * -EPERM (read-write attach of a write-sealed segment, sealshm_seal()),
 * -EINVAL (bad name or opts), -EBADMSG (trackerd sent an fd that is not
 * a size-sealed memfd of the announced size), plus those of sealshm_create().
 */
SEALSHM_API int sealshm_attach(const char *name, const struct sealshm_opts *opts,
			       struct sealshm **ret);

/* Unmap, close and free @shm.  NULL is accepted.  The name is left alone.
 * Returns 0. */
SEALSHM_API int sealshm_close(struct sealshm *shm);

/* Remove @shm's name from trackerd.  Existing mappings stay valid; memory is
 * freed when the last mapping and fd are gone.  Only the owner or root may
 * unlink.  Errors: -ENOENT (already unlinked), -EPERM (not the owner). */
SEALSHM_API int sealshm_unlink(struct sealshm *shm);

/* Same as sealshm_unlink() for a name (one leading '/' accepted).
 * @opts may select the socket and, with .ino, the one segment to remove
 * (what sealshm_unlink() does for its handle, for a handle since closed);
 * NULL for defaults. */
SEALSHM_API int sealshm_unlink_name(const char *name, const struct sealshm_opts *opts);

/* Check @name against the rules every call that takes a name applies (one
 * leading '/' accepted and dropped; see sealshm_create(3)), without talking
 * to trackerd.  Returns 0 when it is valid.  Otherwise -EINVAL, and when
 * @reterr_reason is not NULL, *@reterr_reason is an English phrase that
 * completes "the name ...", such as "is empty" or "has an invisible or
 * bidirectional control character (U+202E)".  The phrase belongs to the
 * library and stays valid until the calling thread calls
 * sealshm_check_name() again or exits. */
SEALSHM_API int sealshm_check_name(const char *name, const char **reterr_reason);

/*
 * Seals, as sealshm_info.seals reports them and sealshm_seal() adds them:
 * one bit each, with the values of the kernel's F_SEAL_* (fcntl(2)), so
 * either spelling may be used.  Every segment carries SHRINK and GROW.
 */
#define SEALSHM_SEAL_SEAL		0x0001u	/* no seal can be added any more */
#define SEALSHM_SEAL_SHRINK		0x0002u	/* the size cannot shrink */
#define SEALSHM_SEAL_GROW		0x0004u	/* the size cannot grow */
#define SEALSHM_SEAL_WRITE		0x0008u	/* nobody writes any more */
#define SEALSHM_SEAL_FUTURE_WRITE	0x0010u	/* only existing writable mappings
						 * still write (Linux 5.1) */
#define SEALSHM_SEAL_EXEC		0x0020u	/* exec bits fixed (Linux 6.3) */

/*
 * Write the names of the seals in @seals into @buf (@len bytes), comma
 * separated, NUL-terminated, in bit order: "seal", "shrink", "grow",
 * "write", "future_write", "exec"; a bit this library does not know as
 * "0x40" and so on.  No seal gives "".  Returns the length without the
 * NUL, or -ERANGE (nothing useful written) when @buf is too small.
 */
SEALSHM_API int sealshm_seals_format(uint32_t seals, char *buf, size_t len);

/*
 * Publish @shm (@flags: SEALSHM_SEAL_WRITE and/or _FUTURE_WRITE): make the
 * segment immutable for everyone who attaches it
 * later.  Seals cannot be removed.  Readers see them in sealshm_info.seals
 * (sealshm_stat()), and trackerd refuses a read-write attach with -EPERM.
 *  - SEALSHM_SEAL_FUTURE_WRITE: @shm's buffer stays writable (and so does
 *    every writable mapping that exists now, in any process); no new
 *    writable mapping and no write(2) anywhere.
 *  - SEALSHM_SEAL_WRITE: nobody writes any more, @shm included: its buffer
 *    is remapped read-only at the same address first.  Fails with -EBUSY,
 *    changing nothing, while any other writable mapping of the segment
 *    exists - another handle, another process, or a forked child's
 *    inherited copy of @shm's mapping (see sealshm_seal(3) for how to
 *    avoid that).  Exception: once FUTURE_WRITE is on, the buffer cannot
 *    be made writable again and stays read-only after a failure.  No other
 *    thread may write the buffer meanwhile.
 * Both flags together: SEALSHM_SEAL_WRITE, with both seals added.
 * Errors: -EINVAL (@shm NULL, @flags 0 or unknown, or a kernel before 5.1
 * for FUTURE_WRITE), -EPERM (@shm attached read-only, or the segment
 * carries F_SEAL_SEAL), -EBUSY, -ENOMEM.
 */
SEALSHM_API int sealshm_seal(struct sealshm *shm, uint32_t flags);

/* Accessors; valid until sealshm_close(). */
SEALSHM_API void *sealshm_buf(const struct sealshm *shm);
SEALSHM_API size_t sealshm_size(const struct sealshm *shm);	/* exactly the requested size */
SEALSHM_API const char *sealshm_name(const struct sealshm *shm); /* without a leading '/' */
SEALSHM_API int sealshm_fd(const struct sealshm *shm);		/* owned by @shm, CLOEXEC */

/* sealshm_info.session_pids[] entries. */
#define SEALSHM_INFO_PIDS 4

/* One registered name, as sealshm_registry_list() and sealshm_stat()
 * report it. */
struct sealshm_info {
	char name[SEALSHM_NAME_MAX + 1];
	uint64_t size;		/* bytes */
	uint32_t uid;		/* owner */
	uint32_t gid;
	uint32_t mode;		/* permission bits */
	uint32_t seals;		/* SEALSHM_SEAL_* bits on the memfd now */
	int64_t ctime_ns;	/* creation, CLOCK_REALTIME nanoseconds */
	uint32_t creator_pid;	/* pid of the creator, as trackerd saw it */
	uint32_t flags;		/* SEALSHM_LIFETIME_LAST or 0 */
	uint64_t ino;		/* the memfd's inode number */
	uint32_t n_sessions;	/* how many sessions track the name */
	/* First pid of each of the first (oldest) tracking sessions, 0 past
	 * min(n_sessions, SEALSHM_INFO_PIDS). */
	uint32_t session_pids[SEALSHM_INFO_PIDS];
	uint32_t __reserved;
	/* Bytes of the segment's pages that are allocated (the memfd's
	 * blocks; trackerd never maps it), at most size. */
	uint64_t resident;
	/* Attaches trackerd served, and fast attaches it heard of from a
	 * tracking session (an untracked fast attach is not counted). */
	uint64_t n_attaches;
	int64_t atime_ns;	/* the last of those, CLOCK_REALTIME; 0: never */
};

/*
 * Fetch every name the caller may attach, in no particular order.
 * On success *@ret_infos is a malloc()ed array (free() it; NULL when empty)
 * and the return value is the number of entries.
 * Errors: those of connecting to trackerd, -ENOMEM.
 */
SEALSHM_API int sealshm_registry_list(const struct sealshm_opts *opts,
				      struct sealshm_info **ret_infos);

/* Fetch one name's entry.  Errors: -ENOENT, -EACCES, -EINVAL. */
SEALSHM_API int sealshm_stat(const char *name, const struct sealshm_opts *opts,
			     struct sealshm_info *ret_info);

/* sealshm_registry_stats.refused[] indexes: why trackerd refused requests.
 * A later version may add buckets at the end (n_refused says how many a
 * trackerd reported). */
enum {
	SEALSHM_REFUSED_ENOENT,		/* no such name */
	SEALSHM_REFUSED_EACCES,		/* mode bits, a manager's auth key */
	SEALSHM_REFUSED_EPERM,		/* not the owner, write-sealed */
	SEALSHM_REFUSED_EEXIST,		/* name taken */
	SEALSHM_REFUSED_EDQUOT,		/* a quota */
	SEALSHM_REFUSED_EINVAL,		/* bad fields or fds */
	SEALSHM_REFUSED_PROTO,		/* framing, handshake: connection closed */
	SEALSHM_REFUSED_OTHER,		/* anything else */
};
/* Room for buckets in sealshm_registry_stats.refused[]. */
#define SEALSHM_REFUSED_SLOTS 16

/* trackerd's global figures, as sealshm_registry_stats() reports them.
 * Names and bytes count every name; caller_* only the caller's uid's. */
struct sealshm_registry_stats {
	int64_t start_ns;	/* trackerd's start, CLOCK_REALTIME nanoseconds */
	uint64_t uptime_ns;
	uint64_t names;
	uint64_t bytes;		/* sum of segment sizes */
	uint64_t resident;	/* sum of resident bytes */
	uint64_t requests;	/* requests answered since start; a rate is the
				 * difference of two samples over uptime_ns's */
	uint64_t max_bytes_per_uid;	/* 0: no limit */
	uint64_t caller_bytes;	/* bytes the caller's uid owns */
	/* Refused requests by SEALSHM_REFUSED_* bucket: refused[0 ..
	 * n_refused - 1] are reported, the rest are 0. */
	uint64_t refused[SEALSHM_REFUSED_SLOTS];
	uint32_t n_refused;
	uint32_t sessions;	/* tracking sessions open */
	uint32_t clients;	/* connections open, sessions included */
	uint32_t max_names;	/* --max-names */
	uint32_t max_names_per_uid;
	uint32_t max_clients;
	uint32_t caller_names;	/* names the caller's uid owns */
	uint32_t pid;		/* trackerd's pid */
	uint32_t flags;		/* SEALSHM_REGISTRY_MANAGER */
	uint32_t __reserved;
};
#define SEALSHM_REGISTRY_MANAGER	(1u << 0)	/* a manager's private trackerd */

/* Fetch trackerd's global figures.  Errors: those of reaching trackerd. */
SEALSHM_API int sealshm_registry_stats(const struct sealshm_opts *opts,
				       struct sealshm_registry_stats *ret_stats);

/*
 * Tracking sessions.  Tracked creates and attaches (the default) register the
 * name in the calling process family's session, opened on first use; a
 * forked child shares it, an exec'd program gets its own unless handed this
 * one explicitly:
 *
 * Let a program about to be exec'd join this process's session (as
 * multiprocessing's spawned children share their parent's resource
 * tracker).  Opens the session if needed, returns a new close-on-exec fd of
 * it and writes into @buf (at least SEALSHM_SESSION_ENV_MAX bytes) the value
 * to set as $SEALSHM_SESSION in the program's environment.  The program must
 * inherit the fd under the same number: clear its FD_CLOEXEC in the child
 * before exec, or posix_spawn_file_actions_adddup2(fd, fd).  Close it in the
 * parent once the program runs.
 * Errors: -ERANGE (@len too small), those of reaching trackerd.
 */
#define SEALSHM_SESSION_ENV "SEALSHM_SESSION"
#define SEALSHM_SESSION_ENV_MAX 48
SEALSHM_API int sealshm_session_export(const struct sealshm_opts *opts, char *buf, size_t len);

/*
 * ShareableList: typed items in one segment, with CPython's
 * multiprocessing.shared_memory.ShareableList memory layout byte for byte,
 * so C and Python programs share lists (see sealshm_slist_create(3)).
 */
#define SEALSHM_ITEM_INT	1	/* int64_t, format "q" */
#define SEALSHM_ITEM_FLOAT	2	/* double, format "d" */
#define SEALSHM_ITEM_BOOL	3	/* format "xxxxxxx?" */
#define SEALSHM_ITEM_STR	4	/* UTF-8, format "<n>s", decode code 1 */
#define SEALSHM_ITEM_BYTES	5	/* format "<n>s", decode code 2 */
#define SEALSHM_ITEM_NONE	6	/* format "xxxxxx?x", decode code 3 */

/* One item.  For STR and BYTES, .ptr/.len are the bytes (no NUL needed);
 * as returned by sealshm_slist_get() they point into the shared mapping. */
struct sealshm_item {
	uint32_t type;		/* SEALSHM_ITEM_* */
	uint32_t __pad;
	union {
		int64_t i;	/* INT */
		double f;	/* FLOAT */
		uint32_t b;	/* BOOL: 0 or 1 */
		struct {
			const void *ptr;
			size_t len;
		} s;		/* STR, BYTES */
	} u;
};

struct sealshm_slist;

/* Create a list of @n items (a copy of @items) in a new segment named @name
 * (NULL: generated), laid out as CPython's ShareableList.  A str/bytes slot
 * is sized for its initial value (8-byte multiple, CPython's rule, by UTF-8
 * bytes) and keeps that size for life.  @opts as for sealshm_create() (plus
 * SEALSHM_POSIX for a /dev/shm segment CPython can open).
 * Errors: those of sealshm_create(), -EINVAL (bad item, invalid UTF-8 in a
 * STR), -E2BIG (an item over 9,999,991 bytes). */
SEALSHM_API int sealshm_slist_create(const char *name, const struct sealshm_item *items, size_t n,
				    const struct sealshm_opts *opts, struct sealshm_slist **ret);

/* Attach the list in segment @name.  Every header field, offset, format and
 * code is checked against the segment's size first: a corrupt or hostile
 * list is refused with -EBADMSG, never read out of bounds.
 * Errors: those of sealshm_attach(), -EBADMSG. */
SEALSHM_API int sealshm_slist_attach(const char *name, const struct sealshm_opts *opts,
				    struct sealshm_slist **ret);

/* Unmap and free; NULL is fine.  The name is left alone. Returns 0. */
SEALSHM_API int sealshm_slist_close(struct sealshm_slist *list);

/* The segment under the list (sealshm_unlink() it like any segment);
 * owned by @list. */
SEALSHM_API struct sealshm *sealshm_slist_shm(const struct sealshm_slist *list);

/* Number of items (>= 0). */
SEALSHM_API int sealshm_slist_len(const struct sealshm_slist *list);

/* Item @index (Python's rules: -1 is the last; below -len or at/after len
 * gives -ERANGE).  STR/BYTES: a zero-copy view into the shared mapping
 * (CPython's quirk kept: trailing NULs are dropped), valid while the list is
 * open and only as stable as the writers let it be: hold your own lock, or
 * use sealshm_slist_get_copy().  -EBADMSG if the item's format is corrupt. */
SEALSHM_API int sealshm_slist_get(const struct sealshm_slist *list, int64_t index,
				 struct sealshm_item *ret);

/* As sealshm_slist_get(), but STR/BYTES are copied into @buf (@len bytes; a
 * STR is NUL-terminated) and ret->u.s points there.  Returns the number of
 * bytes of the value, or -ENOBUFS (nothing copied) when @buf is too small. */
SEALSHM_API int sealshm_slist_get_copy(const struct sealshm_slist *list, int64_t index, void *buf,
				      size_t len, struct sealshm_item *ret);

/* Store @item at @index.  Its type may change (the slot's format and code
 * change with it); a STR/BYTES longer than the slot is refused with -E2BIG
 * and the old value stays: nothing is written before every check passed.
 * Errors: -ERANGE, -E2BIG, -EINVAL (bad item), -EPERM (read-only attach). */
SEALSHM_API int sealshm_slist_set(struct sealshm_slist *list, int64_t index,
				 const struct sealshm_item *item);

/* How many items equal @item, with Python's ==: numbers compare by value
 * across int, float and bool (1 == 1.0 == True), str equals str and bytes
 * bytes by content, None only None. */
SEALSHM_API int sealshm_slist_count(const struct sealshm_slist *list,
				   const struct sealshm_item *item);

/* Index of the first item equal to @item, or -ENOENT. */
SEALSHM_API int sealshm_slist_index(const struct sealshm_slist *list,
				   const struct sealshm_item *item);

/* CPython's .format: every item's format string, concatenated, NUL-terminated
 * into @buf.  Returns its length, or -ERANGE when @len is too small. */
SEALSHM_API int sealshm_slist_format(const struct sealshm_slist *list, char *buf, size_t len);

/*
 * SharedMemoryManager: a private trackerd (trackerd --manager, a child of
 * the process that starts it) on a socket in a new 0700 directory.  Every
 * name in it belongs to it: sealshm_manager_shutdown() unlinks them all and
 * stops it, and if the process that started it dies (even by SIGKILL) the
 * manager notices through a pidfd, unlinks everything and exits by itself.
 * It ignores SIGINT.  See sealshm_manager_start(3).
 */
#define SEALSHM_MANAGER_KEY_MAX 256

struct sealshm_manager_opts {
	size_t sz;		/* sizeof(struct sealshm_manager_opts) */
	/* Auth key: start sets it, connect must present the same bytes
	 * (compared in constant time; a mismatch is -EACCES before anything
	 * else happens).  NULL: no key. */
	const void *authkey;
	size_t authkey_len;	/* 1..SEALSHM_MANAGER_KEY_MAX when authkey is set */
	/* start: the trackerd program; NULL: $SEALSHM_TRACKERD, else the
	 * installed one. */
	const char *trackerd;
	size_t :0;
};
#define sealshm_manager_opts__last_field trackerd

struct sealshm_manager;

/* Start a manager and return once it answers.  *@ret is its owner's handle.
 * Errors: -EINVAL (bad opts), -ENOPKG (no executable trackerd program),
 * -ECHILD (it exited before answering), -ETIMEDOUT (no answer in 5 s),
 * -ENOMEM, -EMFILE. */
SEALSHM_API int sealshm_manager_start(const struct sealshm_manager_opts *opts,
				      struct sealshm_manager **ret);

/* Reach the manager at @address (sealshm_manager_address() of its owner)
 * from another process.  Once connected, the plain calls also reach it
 * with sealshm_opts.socket = @address (the key is presented for them).
 * Errors: -ENOENT/-ECONNREFUSED (no manager there), -EACCES (wrong or
 * missing key), -EOPNOTSUPP (a trackerd that is no manager), -EINVAL. */
SEALSHM_API int sealshm_manager_connect(const char *address,
					const struct sealshm_manager_opts *opts,
					struct sealshm_manager **ret);

/* The manager's socket path, valid until the handle is freed. */
SEALSHM_API const char *sealshm_manager_address(const struct sealshm_manager *mgr);

/* The manager's pid (as its HELLO said), 0 for NULL. */
SEALSHM_API pid_t sealshm_manager_pid(const struct sealshm_manager *mgr);

/* Like sealshm_create(NULL, @size, ...) and sealshm_slist_create(NULL, ...),
 * but the new name (generated, "psm_" + 8 hex digits) belongs to the
 * manager: untracked, gone at its shutdown.  Errors: those of the plain
 * calls; -ENOENT once the manager is gone. */
SEALSHM_API int sealshm_manager_create(struct sealshm_manager *mgr, size_t size,
				       struct sealshm **ret);
SEALSHM_API int sealshm_manager_slist_create(struct sealshm_manager *mgr,
					    const struct sealshm_item *items, size_t n,
					    struct sealshm_slist **ret);

/* Attach a name of the manager's, as sealshm_attach() and
 * sealshm_slist_attach() do; @opts (NULL for defaults) may set
 * SEALSHM_RDONLY and nothing else: the socket is the manager's, and its
 * names are never tracked.  Errors: those of sealshm_attach(), -EINVAL for
 * other opts; -ENOENT after shutdown. */
SEALSHM_API int sealshm_manager_attach(struct sealshm_manager *mgr, const char *name,
				       const struct sealshm_opts *opts, struct sealshm **ret);
SEALSHM_API int sealshm_manager_slist_attach(struct sealshm_manager *mgr, const char *name,
					    const struct sealshm_opts *opts,
					    struct sealshm_slist **ret);

/* Unlink every name of the manager, stop it and free @mgr (NULL is fine).
 * Mappings that exist stay valid; new attaches get -ENOENT.  The owner
 * waits for the manager process to exit (and kills it if it does not
 * within 5 s); a connected process waits for its socket to close.  In a
 * forked copy of a handle this only frees the copy, as
 * sealshm_manager_close() does.  Returns 0: a manager already gone is
 * shut down too. */
SEALSHM_API int sealshm_manager_shutdown(struct sealshm_manager *mgr);

/* Free @mgr without stopping the manager (NULL is fine).  The owner's
 * manager then lives until it is shut down from another handle or the
 * owner exits.  Returns 0. */
SEALSHM_API int sealshm_manager_close(struct sealshm_manager *mgr);

/* Library version as "MAJOR.MINOR.PATCH". */
SEALSHM_API const char *sealshm_version(void);

/* The trackerd program the library starts when none answers (and
 * sealshm_manager_start() without opts.trackerd): $SEALSHM_TRACKERD, else
 * the one built beside the library in a build tree, else the installed one.
 * A string of the library's, valid for the process's life; it may name a
 * file that does not exist (then starting one fails with -ENOPKG). */
SEALSHM_API const char *sealshm_trackerd_path(void);

/* ---------------------------------------------------------------------
 * Shared synchronisation objects (sealshm_object(3), sealshm_lock(3), ...)
 *
 * multiprocessing's Lock, RLock, Semaphore, BoundedSemaphore, Condition,
 * Event and Barrier, in shared memory, robust to the death of any process,
 * also between pid namespaces.  Each is a fixed-size struct (layouts in
 * Documentation/objects.md) that lives in any segment mapped read-write,
 * at an address aligned to SEALSHM_OBJECT_ALIGN, set up once by its
 * _init() call; or a segment of its own, created and attached by name
 * (sealshm_object_create(), sealshm_object_attach()).
 *
 * Holders are named by ids that a trackerd gives out (the one @opts of
 * _init() chooses), never by pids or thread ids; every process using an
 * object must reach that trackerd.  When a process dies holding a Lock or
 * an RLock, the next acquirer gets it with -EOWNERDEAD: repair what the
 * lock guards, then call _consistent(); a release without it makes the
 * lock -ENOTRECOVERABLE for everyone (POSIX's robust mutex rules).
 *
 * Waits take @timeout: NULL waits for ever; else a relative interval, or
 * with SEALSHM_WAIT_ABSTIME a CLOCK_MONOTONIC deadline.  A wait that a
 * signal handler interrupts returns -EINTR (retry with what is left).
 * Errors every call may return: -EINVAL (NULL or misaligned object, bad
 * flags or timeout), -EBADMSG (no initialised object of that type there,
 * or one whose state is corrupt), -EROFS (mapped read-only), -ENXIO (the
 * object's trackerd cannot be reached from here).
 * --------------------------------------------------------------------- */
#define SEALSHM_OBJECT_ALIGN	8

struct timespec;	/* <time.h> */

enum sealshm_object_type {
	SEALSHM_OBJECT_LOCK = 1,
	SEALSHM_OBJECT_RLOCK = 2,
	SEALSHM_OBJECT_SEM = 3,		/* Semaphore and BoundedSemaphore */
	SEALSHM_OBJECT_EVENT = 4,
	SEALSHM_OBJECT_COND = 5,
	SEALSHM_OBJECT_BARRIER = 6,
	SEALSHM_OBJECT_ARRAY = 7,	/* Value and Array: sealshm_array(3) */
	SEALSHM_OBJECT_QUEUE = 8,	/* Queue and JoinableQueue: sealshm_queue(3) */
};

/* Sizes are fixed for the ABI; the contents are documented, not public. */
struct sealshm_lock    { uint64_t __opaque[4];   };	/* 32 bytes */
struct sealshm_rlock   { uint64_t __opaque[4];   };	/* 32 bytes */
struct sealshm_sem     { uint64_t __opaque[32];  };	/* 256 bytes */
struct sealshm_event   { uint64_t __opaque[4];   };	/* 32 bytes */
struct sealshm_cond    { uint64_t __opaque[4];   };	/* 32 bytes */
struct sealshm_barrier { uint64_t __opaque[128]; };	/* 1024 bytes */

/* Wait flags */
#define SEALSHM_WAIT_ABSTIME	(1u << 0)	/* @timeout is a CLOCK_MONOTONIC deadline */
/* sealshm_barrier_wait(): the last party to arrive returns at once (its
 * index is parties - 1) with the others still waiting, runs the barrier's
 * action, then lets them go with sealshm_barrier_pass() (or breaks the
 * barrier with sealshm_barrier_abort()). */
#define SEALSHM_BARRIER_ACTION	(1u << 1)

/* sealshm_sem_init() flags: a dead process's units (acquired, not released)
 * come back to the semaphore.  Without it, as in CPython, they are lost. */
#define SEALSHM_SEM_ROBUST	(1u << 0)
/* Most parties a barrier takes (its table of waiting parties). */
#define SEALSHM_BARRIER_PARTIES_MAX	240

/* What sealshm_object_create() makes. */
struct sealshm_object_params {
	size_t sz;		/* sizeof(struct sealshm_object_params) */
	uint32_t type;		/* SEALSHM_OBJECT_* */
	uint32_t flags;		/* SEM: SEALSHM_SEM_ROBUST */
	uint32_t value;		/* SEM: initial value */
	uint32_t max;		/* SEM: most value (BoundedSemaphore), 0 = unbounded */
	uint32_t parties;	/* BARRIER */
	size_t :0;
};
#define sealshm_object_params__last_field parties

/*
 * A segment of its own holding one object at offset 0 (sealshm_buf()),
 * set up as @params says; @name, @opts and errors as sealshm_create()
 * (the segment's size is the object's), and those of the type's _init().
 */
SEALSHM_API int sealshm_object_create(const char *name, const struct sealshm_object_params *params,
				      const struct sealshm_opts *opts, struct sealshm **ret);
/* Attach the segment @name holding an object of @type (0: any type) at
 * offset 0.  Errors: those of sealshm_attach(), -EBADMSG (no such object
 * there), -EROFS (SEALSHM_RDONLY: objects need a writable mapping). */
SEALSHM_API int sealshm_object_attach(const char *name, uint32_t type,
				      const struct sealshm_opts *opts, struct sealshm **ret);

/* State flags of struct sealshm_object_info */
#define SEALSHM_OBJECT_HELD		(1u << 0)	/* LOCK, RLOCK */
#define SEALSHM_OBJECT_OWNER_DIED	(1u << 1)	/* LOCK, RLOCK: held by an heir, not yet consistent */
#define SEALSHM_OBJECT_NOTRECOVERABLE	(1u << 2)	/* LOCK, RLOCK */
#define SEALSHM_OBJECT_SET		(1u << 3)	/* EVENT */
#define SEALSHM_OBJECT_BROKEN		(1u << 4)	/* BARRIER */
#define SEALSHM_OBJECT_ROBUST		(1u << 5)	/* SEM: SEALSHM_SEM_ROBUST */
#define SEALSHM_OBJECT_SHUTDOWN		(1u << 6)	/* QUEUE: shut down (no more puts) */
#define SEALSHM_OBJECT_JOINABLE		(1u << 7)	/* QUEUE: SEALSHM_QUEUE_JOINABLE */

struct sealshm_object_info {
	size_t sz;		/* sizeof(struct sealshm_object_info) */
	uint32_t type;		/* SEALSHM_OBJECT_* */
	uint32_t size;		/* bytes of the object */
	uint32_t flags;		/* SEALSHM_OBJECT_HELD, ... */
	uint32_t holder;	/* LOCK, RLOCK: holder id, 0 = none */
	uint32_t holder_pid;	/* its pid as its trackerd sees it, 0 = none or unknown */
	uint32_t waiters;	/* sleeping now, as far as the object counts them */
	/* SEM: value; RLOCK: recursion count; BARRIER: n_waiting; QUEUE: messages in it */
	uint32_t value;
	uint32_t max;		/* SEM: most value (0 = unbounded); BARRIER: parties; QUEUE: capacity */
	uint64_t instance;	/* its trackerd's liveness instance */
	uint64_t length;	/* ARRAY: items; QUEUE: bytes of the whole queue (header and slots) */
	uint32_t item_size;	/* ARRAY: bytes of an item; QUEUE: largest message (slot size) */
	uint32_t typecode;	/* ARRAY: its typecode ('d', ...; 0: a caller's struct) */
	size_t :0;
};
#define sealshm_object_info__last_field typecode

/*
 * Describe the object at @mem (@len bytes readable there, a read-only
 * mapping is fine) without changing it or waiting: for tools and
 * debuggers.  Never reads past @len.  holder_pid is filled when this
 * process has a holder id of the object's trackerd, or else when the
 * trackerd @opts chooses is that one (asked with SEALSHM_NO_AUTOSTART
 * added: it never starts one); @opts may be NULL.  Errors: -EBADMSG (no
 * object there), -EINVAL.
 */
SEALSHM_API int sealshm_object_info(const void *mem, size_t len, const struct sealshm_opts *opts,
				    struct sealshm_object_info *info);
/* "lock", "rlock", "semaphore", "event", "condition", "barrier", "array",
 * "queue", or NULL. */
SEALSHM_API const char *sealshm_object_type_name(uint32_t type);

/* Lock: multiprocessing.Lock.  acquire: 0, -EBUSY (try), -ETIMEDOUT,
 * -EINTR, -EOWNERDEAD (acquired: its holder died), -ENOTRECOVERABLE.  A
 * thread of the holding process waits like any other (as in CPython).
 * release: -EPERM (not held by this process). */
SEALSHM_API int sealshm_lock_init(struct sealshm_lock *lk, const struct sealshm_opts *opts);
SEALSHM_API int sealshm_lock_acquire(struct sealshm_lock *lk, const struct timespec *timeout,
				     uint32_t flags);
SEALSHM_API int sealshm_lock_tryacquire(struct sealshm_lock *lk);
SEALSHM_API int sealshm_lock_release(struct sealshm_lock *lk);
SEALSHM_API int sealshm_lock_consistent(struct sealshm_lock *lk);

/* RLock: multiprocessing.RLock, owned by a thread of a process; as Lock,
 * re-acquired by its owner thread any number of times (up to 2^32 - 1:
 * -EAGAIN beyond); release by another thread is -EPERM. */
SEALSHM_API int sealshm_rlock_init(struct sealshm_rlock *rl, const struct sealshm_opts *opts);
SEALSHM_API int sealshm_rlock_acquire(struct sealshm_rlock *rl, const struct timespec *timeout,
				      uint32_t flags);
SEALSHM_API int sealshm_rlock_tryacquire(struct sealshm_rlock *rl);
SEALSHM_API int sealshm_rlock_release(struct sealshm_rlock *rl);
SEALSHM_API int sealshm_rlock_consistent(struct sealshm_rlock *rl);

/* Semaphore (@max 0) and BoundedSemaphore (@max >= @value, > 0).
 * acquire: 0, -EAGAIN (try), -ETIMEDOUT, -EINTR.  release: -EOVERFLOW
 * (a bounded one at its most, or 2^31 - 1).  value: the value now. */
SEALSHM_API int sealshm_sem_init(struct sealshm_sem *s, uint32_t value, uint32_t max,
				 uint32_t flags, const struct sealshm_opts *opts);
SEALSHM_API int sealshm_sem_acquire(struct sealshm_sem *s, const struct timespec *timeout,
				    uint32_t flags);
SEALSHM_API int sealshm_sem_tryacquire(struct sealshm_sem *s);
SEALSHM_API int sealshm_sem_release(struct sealshm_sem *s);
SEALSHM_API int sealshm_sem_value(struct sealshm_sem *s, uint32_t *ret);

/* Event: wait returns 0 once set, -ETIMEDOUT, -EINTR; is_set 1 or 0. */
SEALSHM_API int sealshm_event_init(struct sealshm_event *e, const struct sealshm_opts *opts);
SEALSHM_API int sealshm_event_set(struct sealshm_event *e);
SEALSHM_API int sealshm_event_clear(struct sealshm_event *e);
SEALSHM_API int sealshm_event_is_set(struct sealshm_event *e);
SEALSHM_API int sealshm_event_wait(struct sealshm_event *e, const struct timespec *timeout,
				   uint32_t flags);

/* Condition over a Lock or an RLock the caller holds (-EPERM otherwise;
 * an RLock is released fully and re-acquired to its count).  wait: 0
 * (notified, or woken spuriously: recheck the predicate), -ETIMEDOUT,
 * -EINTR, each with the lock held again; -EOWNERDEAD as the lock's
 * acquire.  notify wakes up to @n waiters. */
SEALSHM_API int sealshm_cond_init(struct sealshm_cond *c, const struct sealshm_opts *opts);
SEALSHM_API int sealshm_cond_wait(struct sealshm_cond *c, struct sealshm_lock *lk,
				  const struct timespec *timeout, uint32_t flags);
SEALSHM_API int sealshm_cond_wait_rlock(struct sealshm_cond *c, struct sealshm_rlock *rl,
					const struct timespec *timeout, uint32_t flags);
SEALSHM_API int sealshm_cond_notify(struct sealshm_cond *c, uint32_t n);
SEALSHM_API int sealshm_cond_notify_all(struct sealshm_cond *c);

/* Barrier of @parties (1..SEALSHM_BARRIER_PARTIES_MAX).  wait: the
 * caller's arrival index, 0..parties - 1; -EPIPE (broken: aborted, a
 * waiting party died or timed out, or reset while waiting: CPython's
 * BrokenBarrierError), -ETIMEDOUT (and the barrier is broken, as in
 * CPython), -EINTR.  reset: back to empty and unbroken (waiters get
 * -EPIPE).  n_waiting, parties: counts; broken: 1 or 0. */
SEALSHM_API int sealshm_barrier_init(struct sealshm_barrier *b, uint32_t parties,
				     const struct sealshm_opts *opts);
SEALSHM_API int sealshm_barrier_wait(struct sealshm_barrier *b, const struct timespec *timeout,
				     uint32_t flags);
SEALSHM_API int sealshm_barrier_pass(struct sealshm_barrier *b);
SEALSHM_API int sealshm_barrier_abort(struct sealshm_barrier *b);
SEALSHM_API int sealshm_barrier_reset(struct sealshm_barrier *b);
SEALSHM_API int sealshm_barrier_parties(struct sealshm_barrier *b);
SEALSHM_API int sealshm_barrier_n_waiting(struct sealshm_barrier *b);
SEALSHM_API int sealshm_barrier_broken(struct sealshm_barrier *b);

/* ------------------------------------------------------------------------
 * Arenas (sealshm_arena(3))
 *
 * Many small shared objects in few segments, as multiprocessing.heap keeps
 * ctypes objects: an arena is one process's allocator of blocks in
 * segments it creates through the trackerd its @opts chooses, with those
 * opts' mode and tracking (tracked by default: a family killed with -9
 * leaves nothing).  Another process finds a block by its reference
 * (struct sealshm_ref, what pickling sends).
 *
 * Every process holding a block holds one counted reference to it: the
 * one sealshm_block_alloc() returns, or one taken with
 * sealshm_block_attach(); sealshm_block_release() drops it.  A block is
 * reused when the last reference to it is dropped; a segment's name goes
 * when its arena is closed and none of its blocks is held any more (or
 * with the family that tracks it); its memory when nobody maps it.  The
 * references of a process that dies without releasing them are dropped
 * only with its family.  A forked child shares its parent's blocks
 * through the inherited mappings but holds none of its references: it
 * may not release them (-EPERM) and takes its own with
 * sealshm_block_attach(); an arena used in a forked child starts
 * segments of its own.
 * --------------------------------------------------------------------- */
struct sealshm_arena;

/* Where a block is: enough for any process reaching the same trackerd. */
struct sealshm_ref {
	char name[SEALSHM_NAME_MAX + 1];	/* its segment's name */
	uint64_t offset;	/* of its first byte in that segment */
	uint64_t size;		/* its bytes, as allocated */
	uint64_t generation;	/* changes whenever the block is reused */
};

/* An arena making segments with @opts (NULL: defaults); nothing is
 * created before the first block.  Errors: -EINVAL, -ENOMEM. */
SEALSHM_API int sealshm_arena_open(const struct sealshm_opts *opts, struct sealshm_arena **ret);
/* No more blocks from @arena; the blocks already given out stay valid
 * (see above for when their segments go).  NULL is accepted.  Returns 0. */
SEALSHM_API int sealshm_arena_close(struct sealshm_arena *arena);
/* @size (> 0) zeroed bytes aligned to 16, in a shared segment, with this
 * process's reference to them.  Errors: -EINVAL, -ENOMEM, -EMFILE,
 * those of sealshm_create(). */
SEALSHM_API int sealshm_block_alloc(struct sealshm_arena *arena, size_t size, void **ret);
/* The reference of @block, which this process holds.  Errors: -EINVAL
 * (not a block this process holds). */
SEALSHM_API int sealshm_block_ref(const void *block, struct sealshm_ref *ref);
/* Take a reference of this process's to the block @ref names, through the
 * trackerd @opts chooses; *@ret is where it is mapped here (a process maps
 * each segment once, however many of its blocks it holds).  Errors:
 * -ESTALE (the block was released by everyone, or reused), -EBADMSG (no
 * arena block there), those of sealshm_attach(). */
SEALSHM_API int sealshm_block_attach(const struct sealshm_ref *ref, const struct sealshm_opts *opts,
				     void **ret);
/* Drop this process's reference to @block.  Errors: -EINVAL (not a
 * block), -EPERM (this process holds no reference to it: a forked
 * child's inherited block). */
SEALSHM_API int sealshm_block_release(void *block);

/* ------------------------------------------------------------------------
 * Values and arrays (sealshm_array(3))
 *
 * multiprocessing.sharedctypes' Value, Array, RawValue and RawArray: a
 * fixed number of items of one type, and optionally a Lock or an RLock of
 * their own, in a segment of their own (_create/_attach), in an arena
 * block (_alloc/_attach_ref), or at any aligned place of a segment mapped
 * read-write (_init, then _open).  A Value is an array of one item.
 *
 * A struct sealshm_array is this process's handle: it keeps a checked
 * copy of the array's type and length, so that no access path that takes
 * an index trusts the shared memory for its bounds.  Items are read and
 * written without locking; hold the array's lock (or one of the
 * caller's) around what must be atomic.
 *
 * Typecodes, as array and ctypes name them: 'c' char, 'b' signed char,
 * 'B' unsigned char, '?' _Bool, 'h' short, 'H' unsigned short, 'i' int,
 * 'I' unsigned int, 'l' long, 'L' unsigned long, 'q' long long,
 * 'Q' unsigned long long, 'f' float, 'd' double; or 0 for items of a
 * caller's struct (item_size and item_align say its size and alignment).
 * --------------------------------------------------------------------- */
struct sealshm_array;

/* struct sealshm_array_params.flags: which lock the array carries (at
 * most one; none by default, like RawValue and RawArray). */
#define SEALSHM_ARRAY_LOCK	(1u << 0)	/* a struct sealshm_lock */
#define SEALSHM_ARRAY_RLOCK	(1u << 1)	/* a struct sealshm_rlock (CPython's default) */
/* A Value rather than an Array of one (for tools; length must be 1). */
#define SEALSHM_ARRAY_VALUE	(1u << 2)
/* sealshm_array_flags() only, never a parameter: this handle is read-only
 * (a lockless array in memory mapped read-only): _write() fails with
 * -EROFS, and the items must not be written through _data(). */
#define SEALSHM_ARRAY_RDONLY	(1u << 3)

struct sealshm_array_params {
	size_t sz;		/* sizeof(struct sealshm_array_params) */
	uint32_t typecode;	/* one of the typecodes above, or 0 */
	uint32_t flags;		/* SEALSHM_ARRAY_* */
	uint64_t length;	/* items, >= 1 */
	uint32_t item_size;	/* typecode 0: bytes of an item (> 0); else 0 */
	uint32_t item_align;	/* typecode 0: its alignment (power of 2, <= 16); else 0 */
	const void *init;	/* length * item size bytes to start with; NULL: zeros */
	size_t :0;
};
#define sealshm_array_params__last_field init

/* Bytes an array described by @params takes (to place it with _init()).
 * Errors: -EINVAL (bad params), -EOVERFLOW (too large). */
SEALSHM_API int sealshm_array_size(const struct sealshm_array_params *params, size_t *ret);
/* Set up an array at @mem (SEALSHM_OBJECT_ALIGN-aligned, @len bytes
 * there, at least sealshm_array_size()), its lock's holders named by the
 * trackerd @opts chooses.  Errors: -EINVAL, -ENOSPC (@len too small),
 * -EROFS, those of sealshm_lock_init(). */
SEALSHM_API int sealshm_array_init(void *mem, size_t len, const struct sealshm_array_params *params,
				   const struct sealshm_opts *opts);
/* A handle on the array set up at @mem, checked against @len (the bytes
 * mapped there).  A lockless array in read-only memory gives a read-only
 * handle (SEALSHM_ARRAY_RDONLY).  Errors: -EINVAL, -EBADMSG (no array
 * there, or one that does not fit in @len), -EROFS (read-only memory and
 * a lock), -ENXIO (its lock's trackerd cannot be reached from here). */
SEALSHM_API int sealshm_array_open(void *mem, size_t len, struct sealshm_array **ret);
/* An array in a segment of its own named @name; @name and @opts as
 * sealshm_create().  Errors: those of sealshm_create() and _init(). */
SEALSHM_API int sealshm_array_create(const char *name, const struct sealshm_array_params *params,
				     const struct sealshm_opts *opts, struct sealshm_array **ret);
/* The array of the segment @name (made by _create()).  Errors: those of
 * sealshm_attach() and _open(); -EROFS with SEALSHM_RDONLY when the
 * array has a lock (without one, the handle is read-only). */
SEALSHM_API int sealshm_array_attach(const char *name, const struct sealshm_opts *opts,
				     struct sealshm_array **ret);
/* An array in a block of @arena (the handle holds the block's reference).
 * Errors: those of sealshm_block_alloc() and _init(). */
SEALSHM_API int sealshm_array_alloc(struct sealshm_arena *arena,
				    const struct sealshm_array_params *params,
				    const struct sealshm_opts *opts, struct sealshm_array **ret);
/* The array in the block @ref names (a reference of this process's is
 * taken).  Errors: those of sealshm_block_attach() and _open(). */
SEALSHM_API int sealshm_array_attach_ref(const struct sealshm_ref *ref,
					 const struct sealshm_opts *opts,
					 struct sealshm_array **ret);
/* The reference of an array made by _alloc() or _attach_ref().  Errors:
 * -EINVAL (the array is not in a block). */
SEALSHM_API int sealshm_array_ref(const struct sealshm_array *a, struct sealshm_ref *ref);
/* Free the handle, and what it holds: the block reference or the
 * segment's mapping (the name is left alone).  NULL is accepted.
 * Returns 0. */
SEALSHM_API int sealshm_array_close(struct sealshm_array *a);
/* The segment of an array made by _create() or _attach(), else NULL. */
SEALSHM_API struct sealshm *sealshm_array_shm(const struct sealshm_array *a);

SEALSHM_API uint64_t sealshm_array_length(const struct sealshm_array *a);
SEALSHM_API uint32_t sealshm_array_typecode(const struct sealshm_array *a);
SEALSHM_API size_t sealshm_array_item_size(const struct sealshm_array *a);
SEALSHM_API uint32_t sealshm_array_flags(const struct sealshm_array *a);	/* SEALSHM_ARRAY_* */
/* The first item (aligned to the items' alignment, at least 8):
 * sealshm_array_length() items, for zero-copy access. */
SEALSHM_API void *sealshm_array_data(const struct sealshm_array *a);
/* The array's Lock (SEALSHM_ARRAY_LOCK) or RLock (SEALSHM_ARRAY_RLOCK),
 * else NULL. */
SEALSHM_API struct sealshm_lock *sealshm_array_lock(const struct sealshm_array *a);
SEALSHM_API struct sealshm_rlock *sealshm_array_rlock(const struct sealshm_array *a);

/* Copy @count items from index @start out to @buf (@size bytes, exactly
 * count * item size), or in from it.  @typecode must be the array's (and
 * for 0, @size the struct's multiple).  No lock is taken.  Errors:
 * -EINVAL (typecode or size mismatch), -ERANGE (index out of range),
 * -EROFS (_write() on a read-only handle). */
SEALSHM_API int sealshm_array_read(const struct sealshm_array *a, uint64_t start, uint64_t count,
				   uint32_t typecode, void *buf, size_t size);
SEALSHM_API int sealshm_array_write(struct sealshm_array *a, uint64_t start, uint64_t count,
				    uint32_t typecode, const void *buf, size_t size);

/* ------------------------------------------------------------------------
 * Queues (sealshm_queue(3))
 *
 * multiprocessing's Queue and JoinableQueue: a bounded queue of messages
 * (bytes) between any number of producer and consumer processes, in a
 * segment of its own, created and attached by name.  No feeder thread, no
 * lock: a put or a get is a few compare-and-swaps on the segment, and a
 * futex call only when someone must sleep or be woken.
 *
 * A process killed at any instruction of a put or a get costs at most the
 * message it was handling (never a duplicated or torn one); everyone else
 * goes on, and sleepers wake when a holder dies (as for the other objects,
 * every process using a queue must reach the trackerd its creator used).
 *
 * Not yet: messages larger than a slot (-EMSGSIZE; later carried in a
 * segment of their own), a bound in bytes (max_bytes must be 0), unbounded
 * queues (chained segments), queues placed in a caller's memory or an
 * arena block, and a zero-copy get.
 * --------------------------------------------------------------------- */
struct sealshm_queue;

/* struct sealshm_queue_params.flags: task_done() and join() work (a
 * JoinableQueue); without it they are -EINVAL. */
#define SEALSHM_QUEUE_JOINABLE	(1u << 0)
/* Most slots and largest slot size of a queue. */
#define SEALSHM_QUEUE_CAPACITY_MAX	(1u << 24)
#define SEALSHM_QUEUE_SLOT_SIZE_MAX	(1u << 24)

struct sealshm_queue_params {
	size_t sz;		/* sizeof(struct sealshm_queue_params) */
	uint32_t flags;		/* SEALSHM_QUEUE_JOINABLE */
	uint32_t capacity;	/* most messages in it (its slots), 1..CAPACITY_MAX */
	uint32_t slot_size;	/* bytes of the largest message, 1..SLOT_SIZE_MAX */
	uint32_t __pad;		/* 0 */
	uint64_t max_bytes;	/* most bytes of messages in it: not yet, must be 0 */
	size_t :0;
};
#define sealshm_queue_params__last_field max_bytes

/* A queue in a new segment @name; @name and @opts as sealshm_create().
 * Errors: -EINVAL (bad params), -EOPNOTSUPP (max_bytes), -EOVERFLOW (too
 * large), those of sealshm_create() and of reaching its trackerd. */
SEALSHM_API int sealshm_queue_create(const char *name, const struct sealshm_queue_params *params,
				     const struct sealshm_opts *opts, struct sealshm_queue **ret);
/* The queue of the segment @name.  Its header is checked against the
 * bytes mapped before use.  Errors: those of sealshm_attach(), -EBADMSG
 * (no queue there, or a corrupt one), -EROFS (SEALSHM_RDONLY: a queue
 * needs a writable mapping), -ENXIO. */
SEALSHM_API int sealshm_queue_attach(const char *name, const struct sealshm_opts *opts,
				     struct sealshm_queue **ret);
/* Free the handle and unmap (the name is left alone; sealshm_unlink() it
 * through sealshm_queue_shm()).  NULL is accepted.  Returns 0. */
SEALSHM_API int sealshm_queue_close(struct sealshm_queue *q);
/* The segment under the queue. */
SEALSHM_API struct sealshm *sealshm_queue_shm(const struct sealshm_queue *q);
/* The checked geometry: slots, slot size, SEALSHM_QUEUE_* flags. */
SEALSHM_API uint32_t sealshm_queue_capacity(const struct sealshm_queue *q);
SEALSHM_API uint32_t sealshm_queue_slot_size(const struct sealshm_queue *q);
SEALSHM_API uint32_t sealshm_queue_flags(const struct sealshm_queue *q);

/*
 * Put a copy of the @len bytes at @msg (@len <= slot size; 0 is fine),
 * waiting for room as the other objects wait (@timeout NULL: for ever;
 * relative, or with SEALSHM_WAIT_ABSTIME a CLOCK_MONOTONIC deadline).
 * Returns 0; -EAGAIN (tryput: full), -ETIMEDOUT, -EINTR, -EPIPE (shut
 * down), -EMSGSIZE (@len larger than a slot: not yet), and the common
 * object errors.
 */
SEALSHM_API int sealshm_queue_put(struct sealshm_queue *q, const void *msg, size_t len,
				  const struct timespec *timeout, uint32_t flags);
SEALSHM_API int sealshm_queue_tryput(struct sealshm_queue *q, const void *msg, size_t len);
/*
 * Take the oldest message into @buf (@len bytes there) and set *@ret_len
 * to its size.  Waits as put().  Returns 0; -EAGAIN (tryget: empty),
 * -ETIMEDOUT, -EINTR, -EPIPE (shut down and empty), -EMSGSIZE (the
 * message does not fit in @len: it stays in the queue, and *@ret_len says
 * its size), -EBADMSG (a corrupt queue).
 */
SEALSHM_API int sealshm_queue_get(struct sealshm_queue *q, void *buf, size_t len, size_t *ret_len,
				  const struct timespec *timeout, uint32_t flags);
SEALSHM_API int sealshm_queue_tryget(struct sealshm_queue *q, void *buf, size_t len,
				     size_t *ret_len);
/* Messages in the queue at the instant (those whose put has taken a slot
 * and whose get has not), >= 0; empty: 1 or 0; full: 1 or 0. */
SEALSHM_API int sealshm_queue_size(struct sealshm_queue *q);
SEALSHM_API int sealshm_queue_empty(struct sealshm_queue *q);
SEALSHM_API int sealshm_queue_full(struct sealshm_queue *q);
/* No more puts, for everyone (-EPIPE); gets take what is left, then get
 * -EPIPE.  Sleepers are woken.  Returns 0 (also when already shut down). */
SEALSHM_API int sealshm_queue_shutdown(struct sealshm_queue *q);
/* JoinableQueue: task_done() says a message got is processed; -EOVERFLOW
 * when called more times than messages were got (CPython's ValueError),
 * -EINVAL without SEALSHM_QUEUE_JOINABLE.  join() waits until every
 * message put has been got and task_done() called for it: 0, -ETIMEDOUT,
 * -EINTR, -EINVAL. */
SEALSHM_API int sealshm_queue_task_done(struct sealshm_queue *q);
SEALSHM_API int sealshm_queue_join(struct sealshm_queue *q, const struct timespec *timeout,
				   uint32_t flags);

/* For __attribute__((cleanup(sealshm_closep))). */
static inline void sealshm_closep(struct sealshm **shmp)
{
	if (shmp && *shmp)
		(void)sealshm_close(*shmp);
}

/* For __attribute__((cleanup(sealshm_manager_shutdownp))): the C form of
 * Python's "with SharedMemoryManager() as smm:". */
static inline void sealshm_manager_shutdownp(struct sealshm_manager **mgrp)
{
	if (mgrp && *mgrp)
		(void)sealshm_manager_shutdown(*mgrp);
}

#ifdef __cplusplus
}
#endif

#endif /* SEALSHM_H */
