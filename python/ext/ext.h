/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sealshm._sealshm, the CPython extension over libsealshm: what its files
 * share.  The contract is python/sealshm/_sealshm.pyi.
 *
 *   module.c    PyInit__sealshm, constants, the small functions, errors
 *   segment.c   Segment (struct sealshm) and its buffer protocol
 *   slist.c     SList (struct sealshm_slist) and item conversion
 *   manager.c   Manager (struct sealshm_manager)
 *   registry.c  registry_list(), stat(), registry_stats()
 *   sync.c      Lock, RLock, Semaphore, Event, Condition, Barrier (the
 *               synchronisation objects) and OwnerDiedWarning
 *   array.c     Arena, SharedArray (struct sealshm_array in an arena block)
 *               and SyncValue (sharedctypes' Synchronized.value in C)
 *
 * Rules every file keeps:
 *  - the GIL is released around each library call that may talk to
 *    trackerd, and never around code that touches a Python object that
 *    could change (the strings and bytes handed to the library meanwhile
 *    are immutable and held);
 *  - a C handle that a call uses with the GIL released may not be freed
 *    under it by another thread: such calls count themselves in a "busy"
 *    counter, and close()/shutdown() mark the object closing (new calls
 *    refused) and wait for the counter to drop before they free it;
 *  - every failure path frees what it made, a created name included;
 *  - no state outside the module's and the objects' own (fork-safe: the
 *    library reopens its connections in a child).
 *
 * Python 3.8 to 3.13: only API that 3.8 has, or guarded by PY_VERSION_HEX.
 */
#ifndef SEALSHM_EXT_H
#define SEALSHM_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <sealshm.h>

/* The module's state: what it imported at init. */
struct ext_state {
	PyObject *struct_error;		/* struct.error */
	PyObject *broken_barrier_error;	/* threading.BrokenBarrierError */
	PyObject *owner_died_warning;	/* sealshm.OwnerDiedWarning (made at init) */
};

/* The state of the loaded module (single-phase init: found by its def). */
struct ext_state *ext_state(void);

/*
 * Calls that use a handle with the GIL released.  The count is of this
 * process's calls: in a child forked while another thread was inside one,
 * that call does not exist, and the pid says so.
 */
struct ext_busy {
	int n;
	pid_t pid;
};
void ext_busy_enter(struct ext_busy *b);
void ext_busy_leave(struct ext_busy *b);
/* Wait, the GIL released, until no call counted in @b runs (another
 * thread's call returns: those are bounded trackerd round trips). */
void ext_wait_idle(struct ext_busy *b);

/*
 * What a segment is, kept past close() so that unlink() still works
 * there (sealshm_unlink() needs the handle; without it, the name is
 * unlinked only while it still names this inode).
 */
struct ext_ident {
	PyObject *name;		/* str, without a leading '/' */
	PyObject *socket;	/* bytes (file system encoding) or NULL */
	uint64_t ino;		/* the segment's inode */
	uint32_t flags;		/* SEALSHM_POSIX, _NO_AUTOSTART, _NO_TRACK, _RDONLY */
};

/* Fill @id from an open handle; @socket is borrowed (NULL: default). */
int ext_ident_from_shm(struct ext_ident *id, const struct sealshm *shm, uint32_t flags,
		       PyObject *socket);
void ext_ident_copy(struct ext_ident *dst, const struct ext_ident *src);
void ext_ident_clear(struct ext_ident *id);
/* Unlink @id's name while it names @id's inode (no handle needed).
 * Returns 0 or a negative errno; call without the GIL. */
int ext_ident_unlink(const char *name, const char *socket, uint64_t ino, uint32_t flags);

struct SegmentObject;

/*
 * What an object that lends its handle to a Segment (a list, whose
 * .segment is such a Segment) shares with it.  The lender frees the
 * handle, so the segment counts its GIL-released calls in @busy, is
 * refused while @closing, keeps @readonly in step when it seals, and
 * closes by asking @close.
 */
struct ext_lender {
	struct ext_busy busy;
	bool closing;
	bool readonly;
	struct SegmentObject *seg;	/* the lent Segment while it lives (not a reference) */
	int (*close)(PyObject *lender);	/* 0, or -1 with an exception set */
};

typedef struct SegmentObject {
	PyObject_HEAD
	/* The handle; NULL once closed.  A lent one (a list's,
	 * sealshm_slist_shm()) is freed by its lender. */
	struct sealshm *shm;
	PyObject *owner;		/* the lender (a reference), or NULL */
	struct ext_lender *lender;	/* inside owner, or NULL */
	struct ext_ident id;
	Py_ssize_t size;
	Py_ssize_t exports;		/* buffers exported now */
	struct ext_busy busy;		/* calls using shm with the GIL released */
	bool readonly;			/* attached read-only, or sealed against writes */
	bool closing;
	PyObject *weakreflist;
} SegmentObject;

typedef struct SListObject {
	PyObject_HEAD
	struct sealshm_slist *list;	/* NULL before __init__ and once closed */
	struct ext_lender lend;		/* to .segment; lend.readonly is the list's */
	struct ext_ident id;
	Py_ssize_t n;			/* items: fixed for life */
	Py_ssize_t size;		/* the segment's */
	bool inited;			/* __init__ ran (once only) */
} SListObject;

extern PyTypeObject ext_segment_type;
extern PyTypeObject ext_slist_type;
extern PyTypeObject ext_manager_type;
/* sync.c */
extern PyTypeObject ext_lock_type, ext_rlock_type, ext_sem_type, ext_event_type, ext_cond_type,
	ext_barrier_type;
/* array.c */
extern PyTypeObject ext_arena_type, ext_array_type, ext_syncvalue_type;

/* --- errors (module.c) --------------------------------------------------- */

#define EXT_SEGMENT_CLOSED	"operation on a closed segment"
#define EXT_SLIST_CLOSED	"ShareableList is closed"

/* A negative errno @r as OSError(errno, strerror, '/' + @name) (the
 * subclass Python picks: FileNotFoundError, ...); @name is a str without
 * or with its leading '/', or NULL for no file name.  Returns NULL. */
PyObject *ext_oserror(int r, PyObject *name);
/* -EINVAL from a create or attach whose name and size passed our checks:
 * ValueError saying which flag or mode the library refused.  NULL. */
PyObject *ext_einval(const char *call, uint32_t flags, uint32_t mode);

/* --- argument conversion (module.c) -------------------------------------- */

/* A segment name: a str without NUL, valid by sealshm_check_name().
 * The C string lives as long as the str (which the caller holds). */
struct ext_name {
	PyObject *obj;		/* borrowed */
	const char *s;		/* UTF-8 */
};
/* O& converter for a name; with @allow_none a None gives .s == NULL. */
int ext_name_conv(PyObject *o, void *ret_name);
int ext_name_or_none_conv(PyObject *o, void *ret_name);
/* O& converter: None -> NULL, else a path as bytes (os.fsencode()); the
 * caller owns the reference (Py_XDECREF it). */
int ext_socket_conv(PyObject *o, void *ret_bytes);
/* O& converter: an int 0 .. 2**32-1 into a uint32_t. */
int ext_u32_conv(PyObject *o, void *ret_u32);
/* Check an int size as CPython's SharedMemory does: ValueError for a
 * negative one, for 0 when @create, and for one above 2**63-1; TypeError
 * unless an integer.  Returns 0 and *@ret_size, or -1. */
int ext_size_check(PyObject *o, bool create, size_t *ret_size);

static inline const char *ext_socket_str(PyObject *bytes)
{
	return bytes ? PyBytes_AS_STRING(bytes) : NULL;
}

/* --- objects made by one file for another -------------------------------- */

/* A new Segment owning @shm (which this takes: closed on failure, and
 * unlinked too when @created).  @id_flags/@socket as for ext_ident. */
PyObject *ext_segment_wrap(struct sealshm *shm, bool created, uint32_t id_flags,
			   PyObject *socket);
/* A Segment over @shm lent by @owner (NULL @shm: closed already), which
 * becomes @lender->seg; @id is copied, @size and readonly taken as the
 * lender says. */
PyObject *ext_segment_lent(PyObject *owner, struct ext_lender *lender, struct sealshm *shm,
			   const struct ext_ident *id, Py_ssize_t size);

/* Items of a Python sequence as struct sealshm_item, for a create: the
 * tuple keeps the str/bytes the items point into alive. */
struct ext_items {
	PyObject *tuple;
	struct sealshm_item *items;
	size_t n;
};
int ext_items_from_sequence(PyObject *seq, struct ext_items *ret);
void ext_items_release(struct ext_items *it);
/* A new SList (the base type) owning @l (taken as for ext_segment_wrap()). */
PyObject *ext_slist_wrap(struct sealshm_slist *l, bool created, uint32_t id_flags,
			 PyObject *socket);

/* sync.c: a new object of @tp (a subtype of Lock or RLock, as @type
 * says) over the lock at @obj, inside the memory of @owner, which it
 * keeps alive; @name (a str, for messages) and @socket (bytes or NULL)
 * are its owner's. */
PyObject *ext_sync_wrap(PyTypeObject *tp, PyObject *owner, void *obj, uint32_t type,
			PyObject *name, PyObject *socket);
/* The lock inside a Lock or RLock object @o and its type, or NULL (not
 * one, or closed). */
void *ext_sync_object(PyObject *o, uint32_t *ret_type);

/* registry.c */
PyObject *ext_registry_list(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *ext_stat(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *ext_registry_stats(PyObject *module, PyObject *args, PyObject *kwds);

#endif /* SEALSHM_EXT_H */
