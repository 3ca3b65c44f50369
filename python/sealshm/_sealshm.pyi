# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm._sealshm: the C extension over libsealshm (python/ext/*.c).

Thin by design: argument parsing, the GIL released around every call that
may wait for trackerd, exceptions from errnos, and the buffer protocol.
The classes users see (sealshm.shared_memory, sealshm.managers) are in
Python on top of it.

Errors: a negative errno from the library becomes OSError(errno,
os.strerror(errno), name) -- Python picks the subclass (FileNotFoundError,
FileExistsError, PermissionError, ...) -- except where a docstring here
says otherwise.  Bad arguments raise TypeError/ValueError before anything
is created (an int out of range for a flags/mode/seals argument:
OverflowError; -EINVAL from the library: ValueError saying which flag or
mode it refused).  Nothing is left behind by a call that raises: no name, no fd,
no mapping.
"""

from typing import Any, Iterable, Optional, Sequence, Tuple, Union

# sealshm_opts.flags
RDONLY: int
NO_TRACK: int
NO_AUTOSTART: int
LIFETIME_LAST: int
POSIX: int
RESERVE: int
# Seal bits (the kernel's F_SEAL_* values)
SEAL_SEAL: int
SEAL_SHRINK: int
SEAL_GROW: int
SEAL_WRITE: int
SEAL_FUTURE_WRITE: int
SEAL_EXEC: int
NAME_MAX: int           # 255
MANAGER_KEY_MAX: int    # 256: longest Manager auth key, in bytes
SESSION_ENV: str        # "SEALSHM_SESSION"

def version() -> str: ...
def trackerd_path() -> str: ...

def check_name(name: str) -> Optional[str]:
    """None when @name is valid (one leading '/' accepted), else the reason
    (sealshm_check_name()), e.g. 'is longer than 255 bytes'.  TypeError
    unless str; a str with a NUL is 'has an embedded null character'."""

def seals_format(seals: int) -> str: ...

class Segment:
    """One segment handle (struct sealshm): a mapping with the buffer
    protocol (writable unless attached read-only).

    Segment(name, create, size=0, *, flags=0, mode=0, socket=None)
      create=True: sealshm_create(name or None -> generated 'psm_xxxxxxxx',
      size, ...); create=False: sealshm_attach(name, ...).
      name: str (a leading '/' is accepted and dropped, as everywhere);
      an invalid name raises ValueError("invalid name ...: <reason>");
      size: int; create needs 1 <= size (ValueError otherwise, with
      CPython's messages: "'size' must be a positive integer" for < 0,
      "'size' must be a positive number different from zero" for 0);
      too large for the library (> 2**63-1) is ValueError too; a size
      that is no integer is TypeError (also when attaching, where CPython
      ignores it).
      -ENOENT -> FileNotFoundError(errno, strerror, '/' + name);
      -EEXIST -> FileExistsError(..., '/' + name); as CPython's messages.
    """

    def __init__(self, name: Optional[str], create: bool, size: int = 0, *,
                 flags: int = 0, mode: int = 0, socket: Optional[str] = None) -> None: ...
    @property
    def name(self) -> str: ...          # without a leading '/'
    @property
    def size(self) -> int: ...          # exactly the size asked for
    @property
    def readonly(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def exports(self) -> int: ...       # buffers exported now
    def fileno(self) -> int: ...        # ValueError when closed
    def close(self) -> None:
        """Unmap and close; a second close does nothing.  BufferError
        ('cannot close exported pointers exist', as mmap says) while a
        buffer of it is exported, changing nothing."""
    def unlink(self) -> None:
        """sealshm_unlink(): only this handle's segment (FileNotFoundError
        when the name now names another one, or none).  Works after close()
        too (the name and inode are kept): then the name is looked up and
        unlinked by name, so a process that unlinks and re-creates it in
        between loses its new segment (the window lib/posix.c has too)."""
    def seal(self, flags: int) -> None:
        """sealshm_seal(): SEAL_WRITE and/or SEAL_FUTURE_WRITE.  SEAL_WRITE
        remaps the buffer read-only, so while a buffer is exported (a
        writable memoryview would fault) it raises BufferError and changes
        nothing: release the memoryview, seal, export again.  Afterwards
        readonly is True and new buffers are read-only.  FUTURE_WRITE
        keeps this handle's buffer writable."""
    # buffer protocol; after close(), a new export raises ValueError
    # ("operation on a closed segment")

def unlink_name(name: str, *, flags: int = 0, socket: Optional[str] = None) -> None: ...

class SList:
    """A ShareableList (struct sealshm_slist), CPython's bytes.

    SList(sequence=None, *, name=None, flags=0, mode=0, socket=None)
      sequence given (or name None): create a list of those items in a new
      segment named @name (None: generated); name given and sequence None:
      attach.  sequence: any iterable.  Items: int (64-bit; out of range
      -> struct.error with CPython 3.13's 'q' message, on every Python),
      float, bool, str, bytes, None; for any other type raise what CPython
      3.13's ShareableList raises (KeyError(type(item)) from its type
      table: exact types in the constructor, so subclasses of int, float,
      str, bytes are KeyError there; on assignment the same, except that
      str and bytes subclasses are taken, as its isinstance() does), so
      that code catching those keeps working.  A str/bytes item over
      9,999,991 bytes: ValueError (CPython fails an assert).  A segment
      that holds no valid list: OSError(EBADMSG).  __init__ runs once
      (RuntimeError again); before it, items raise ValueError as closed.
      A subclassable C type: sealshm.shared_memory.ShareableList derives
      from it, so that item access stays a C slot.
    """

    def __init__(self, sequence: Optional[Iterable[Any]] = None, *,
                 name: Optional[str] = None, flags: int = 0, mode: int = 0,
                 socket: Optional[str] = None) -> None: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> Any: ...     # IndexError("index out of range")
    def __setitem__(self, index: int, value: Any) -> None: ...
        # IndexError("assignment index out of range"); a str/bytes longer
        # than the slot: ValueError("bytes/str item exceeds available
        # storage"), nothing changed; a value of another type changes the
        # item's format as CPython does; a list attached read-only (or
        # whose segment was sealed with SEAL_WRITE): TypeError("cannot
        # modify read-only memory"), as struct.pack_into() says
    def count(self, value: Any) -> int: ...           # Python's == (1 == 1.0 == True)
    def index(self, value: Any) -> int: ...           # ValueError(f"{value!r} not in this container")
    @property
    def format(self) -> str: ...
    @property
    def segment(self) -> Segment:
        """The segment under the list, borrowed: the same object every
        time; its close() closes the list too (later item access raises
        ValueError('ShareableList is closed')).  It holds a reference to
        the list, and the list none to it: no cycle between the two."""
    def close(self) -> None: ...        # BufferError while .segment is exported

class Manager:
    """A SharedMemoryManager's private trackerd (struct sealshm_manager).
    Made by start() or connect() only (Manager() is TypeError).  After
    shutdown() or close() every other method raises ValueError
    ('operation on a closed manager').  Dropping the object frees the
    handle and leaves the manager running, as sealshm_manager_close()."""
    @staticmethod
    def start(authkey: Optional[bytes] = None, trackerd: Optional[str] = None) -> "Manager": ...
    @staticmethod
    def connect(address: str, authkey: Optional[bytes] = None) -> "Manager": ...
    @property
    def address(self) -> str: ...
    @property
    def pid(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def create(self, size: int) -> Segment: ...
    def slist_create(self, sequence: Iterable[Any]) -> SList: ...
    def attach(self, name: str, *, readonly: bool = False) -> Segment: ...
    def slist_attach(self, name: str, *, readonly: bool = False) -> SList: ...
    def shutdown(self) -> None: ...     # idempotent; in a forked copy frees only the copy
    def close(self) -> None: ...        # idempotent

def registry_list(*, socket: Optional[str] = None) -> list:
    """Every name the caller may attach: a list of dicts with the keys of
    struct sealshm_info (name, size, uid, gid, mode, seals, ctime_ns,
    creator_pid, lifetime ('first' or 'last'), ino, n_sessions,
    session_pids, resident, n_attaches, atime_ns)."""

def stat(name: str, *, socket: Optional[str] = None) -> dict: ...
def registry_stats(*, socket: Optional[str] = None) -> dict:
    """struct sealshm_registry_stats as a dict: start_ns, uptime_ns, names,
    bytes, resident, requests, max_bytes_per_uid, caller_bytes, sessions,
    clients, max_names, max_names_per_uid, max_clients, caller_names, pid,
    manager (bool: SEALSHM_REGISTRY_MANAGER), and refused: a dict of
    counts by bucket, 'enoent', 'eacces', 'eperm', 'eexist', 'edquot',
    'einval', 'proto', 'other' (a newer trackerd's extra buckets by their
    index, as str)."""

def session_export(*, socket: Optional[str] = None) -> Tuple[int, str]:
    """(fd, value): a new close-on-exec fd of this family's session and the
    value of $SEALSHM_SESSION naming it, for a program about to be exec'd
    (sealshm_session_export()).  The caller owns the fd."""

# --- synchronisation objects (sync.c) -----------------------------------
#
# One type per object, each over a segment of its own holding the object
# at offset 0: made by sealshm_object_create() when create is true (name
# None: a generated 'psm_' name, tracked in the family's session), else
# attached by name with sealshm_object_attach() (untracked: the name is
# its creator's; ValueError when the segment holds no object of the
# type).  The handle that created a name unlinks it when collected, in the
# creating process only.  sealshm.synchronize derives multiprocessing's
# classes from them.
#
# Waits release the GIL; a signal handler's exception (KeyboardInterrupt)
# ends them, else they go on to the same CLOCK_MONOTONIC deadline.
# Timeouts are seconds (float() of the argument; None: no limit; <= 0:
# do not wait; NaN: ValueError).  close() frees the handle (after the
# waits running in other threads return); later calls raise ValueError
# ('operation on a closed Lock', ...).  Other errors: OSError, e.g.
# ENXIO when the object's trackerd cannot be reached from this process.

BARRIER_PARTIES_MAX: int   # 240

class OwnerDiedWarning(RuntimeWarning):
    """An acquire (or a Condition's wait) inherited a Lock or RLock whose
    holder died holding it: it succeeded, and the lock was marked
    consistent.  As an error (-W error), the lock is released first."""

class _Object:
    @property
    def name(self) -> str: ...
    @property
    def socket(self) -> Optional[bytes]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def created(self) -> bool: ...   # this handle unlinks the name when collected
    def close(self) -> None: ...
    def info(self) -> dict:
        """sealshm_object_info(): type ('lock', 'rlock', 'semaphore',
        'event', 'condition', 'barrier'), size, held, owner_died,
        notrecoverable, set, broken, robust, holder, holder_pid, waiters,
        value, max, instance."""

class _LockBase(_Object):
    """What Lock and RLock (two types) both have."""
    def __init__(self, name: Optional[str] = None, *, create: bool = True,
                 socket: Optional[str] = None) -> None: ...
    def acquire(self, block: bool = True, timeout: Optional[float] = None) -> bool:
        """True once held, False if not (block false, or timeout).  A dead
        holder's lock: True, OwnerDiedWarning, owner_died set."""
    def release(self) -> None:
        """Lock: ValueError('semaphore or lock released too many times')
        when not held, PermissionError when another process holds it.
        RLock: AssertionError('attempt to release recursive lock not owned
        by thread') unless the calling thread holds it."""
    def __enter__(self) -> bool: ...
    def __exit__(self, *args: Any) -> None: ...
    def _is_mine(self) -> bool: ...     # held through this handle by the calling thread
    def _count(self) -> int: ...        # acquires through this handle not released
    @property
    def owner_died(self) -> bool: ...

class Lock(_LockBase): ...
class RLock(_LockBase): ...

class Semaphore(_Object):
    def __init__(self, name: Optional[str] = None, *, create: bool = True, value: int = 1,
                 max: int = 0, robust: bool = False, socket: Optional[str] = None) -> None: ...
        # value 0 .. 2**31-1 (ValueError); max 0 (unbounded) or >= value
    def acquire(self, block: bool = True, timeout: Optional[float] = None) -> bool: ...
    def release(self) -> None:
        """A bounded one at its most: ValueError('semaphore or lock released
        too many times'); any at 2**31 - 1: OSError(EOVERFLOW)."""
    def __enter__(self) -> bool: ...
    def __exit__(self, *args: Any) -> None: ...
    def get_value(self) -> int: ...
    @property
    def maxvalue(self) -> int: ...      # 0: unbounded

class Event(_Object):
    def __init__(self, name: Optional[str] = None, *, create: bool = True,
                 socket: Optional[str] = None) -> None: ...
    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: Optional[float] = None) -> bool: ...

class Condition(_Object):
    def __init__(self, lock: Lock, name: Optional[str] = None, *, create: bool = True,
                 socket: Optional[str] = None) -> None: ...
        # lock: a Lock or RLock of this module (TypeError otherwise)
    @property
    def lock(self) -> Lock: ...
    def wait(self, timeout: Optional[float] = None) -> bool:
        """False on timeout, else True (maybe spuriously).  RuntimeError
        ('cannot wait on un-acquired lock') unless the calling thread holds
        the lock (as _is_mine() says).  Returns with the lock held, also
        when a signal handler's exception ends it."""
    def notify(self, n: int = 1) -> None: ...   # RuntimeError('cannot notify on un-acquired lock')
    def notify_all(self) -> None: ...

class Barrier(_Object):
    def __init__(self, parties: int = 0, name: Optional[str] = None, *, create: bool = True,
                 socket: Optional[str] = None) -> None: ...
        # create: 1 <= parties <= BARRIER_PARTIES_MAX (ValueError)
    def wait(self, timeout: Optional[float] = None, action: bool = False) -> int:
        """The arrival index; threading.BrokenBarrierError when broken or
        timed out.  action=True: the last to arrive returns at once (index
        parties - 1), runs the action and calls pass_() or abort()."""
    def pass_(self) -> None: ...
    def abort(self) -> None: ...
    def reset(self) -> None: ...
    @property
    def parties(self) -> int: ...
    @property
    def n_waiting(self) -> int: ...
    @property
    def broken(self) -> bool: ...

# --- shared values and arrays (array.c) ---------------------------------------

class Arena:
    """This process's allocator of blocks in shared segments it creates
    (sealshm_arena_open()), tracked like any name.  Nothing is created
    before the first block."""
    def __init__(self, *, socket: Optional[str] = None) -> None: ...
    def close(self) -> None:
        """No more blocks; those given out stay valid, and a segment's name
        goes once none of its blocks is held.  In a forked child the
        parent's arena is only dropped."""
    @property
    def closed(self) -> bool: ...       # also True in a process that did not open it
    @property
    def socket(self) -> Optional[bytes]: ...

class SharedArray:
    """A typed array in an arena block (struct sealshm_array): @length
    items of @typecode (one of 'cbB?hHiIlLqQfd', or '' for items of
    @item_size bytes aligned to @item_align <= 16), zeroed, with an
    embedded lock when @lock is 'lock' or 'rlock'; or, with @ref, the
    array another process made, attached through @socket's trackerd (a
    reference of this process's is taken; FileNotFoundError when every
    process released it).  The buffer protocol gives the items (writable,
    format 'B', no copy, 16-aligned).  The handle's block reference is
    dropped when it is collected, in the process that took it only (a
    forked child's copy drops nothing)."""
    def __init__(self, typecode: str = '', length: int = 0, *, arena: Optional[Arena] = None,
                 item_size: int = 0, item_align: int = 0, lock: Optional[str] = None,
                 value: bool = False, ref: Optional[Tuple[str, int, int, int]] = None,
                 socket: Optional[str] = None) -> None: ...
    def ref(self) -> Tuple[str, int, int, int]: ...     # (name, offset, size, generation)
    def make_lock(self, cls: type) -> Any:
        """An object of @cls (a subclass of Lock or RLock, as the array
        carries) over the embedded lock, keeping this array alive;
        ValueError without one."""
    @property
    def name(self) -> str: ...          # the segment holding the block
    @property
    def length(self) -> int: ...
    @property
    def item_size(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    @property
    def typecode(self) -> str: ...      # '' for a struct
    @property
    def lock_kind(self) -> Optional[str]: ...   # 'lock', 'rlock' or None
    @property
    def socket(self) -> Optional[bytes]: ...
    @property
    def held(self) -> bool: ...         # this process holds the block reference

class SyncValue:
    """Base of sealshm.sharedctypes.Synchronized: 'value' reads or writes
    @obj.value holding @lock (acquire(), then release()); when @lock is
    the embedded RLock of @array and @obj its one item of a simple
    typecode, in C, converting as ctypes does."""
    def __init__(self, obj: Any, lock: Any, array: Optional[SharedArray] = None) -> None: ...
    value: Any
    @property
    def _obj(self) -> Any: ...
    @property
    def _lock(self) -> Any: ...
    @property
    def _fast(self) -> bool: ...
