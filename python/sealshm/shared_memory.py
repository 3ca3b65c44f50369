# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared memory for direct access across processes, as
``multiprocessing.shared_memory`` provides it, on sealed memfd segments.

``from sealshm import shared_memory`` replaces ``from multiprocessing
import shared_memory``: :class:`SharedMemory` and :class:`ShareableList`
take the same arguments and behave the same, with these differences:

* a segment is a memfd whose size is sealed, named by trackerd, not a file
  in ``/dev/shm``: nobody can shrink it under a reader (no SIGBUS), and a
  container's small ``/dev/shm`` does not limit it;
* tracking follows CPython's rules (a name is unlinked when the first
  process family tracking it ends, ``kill -9`` included), but nothing leaks
  when every process is killed, and ``lifetime='last'`` keeps a name until
  the last tracking family ends;
* :meth:`SharedMemory.unlink` removes only the segment this object maps,
  never a newer one that took the name since;
* names are checked: 1 to 255 bytes of UTF-8 without spaces, controls,
  invisible characters or '/' after the first byte (``ValueError`` says
  which rule);
* keyword-only extras: ``mode``, ``read_only``, ``lifetime``, ``socket``,
  ``posix``, ``reserve``; :meth:`SharedMemory.seal` and
  :meth:`SharedMemory.fileno`; :func:`segments` and :func:`stat`.
"""

from collections import namedtuple
import types

from . import _keys
from . import _sealshm

__all__ = ['SharedMemory', 'ShareableList', 'segments', 'stat', 'SegmentInfo']

_LIFETIMES = ('first', 'last')


def _flags(track=True, read_only=False, lifetime='first', posix=False, reserve=False,
           create=False):
    if lifetime not in _LIFETIMES:
        raise ValueError(f"'lifetime' must be 'first' or 'last', not {lifetime!r}")
    if lifetime == 'last' and not create:
        raise ValueError("'lifetime' is chosen by the creator")
    if read_only and create:
        raise ValueError("a segment is created writable; 'read_only' is for attaching")
    if reserve and not create:
        raise ValueError("'reserve' is for creating")
    if posix and lifetime == 'last':
        raise ValueError("a posix segment has no trackerd, so no lifetime to choose")
    flags = 0
    if not track:
        flags |= _sealshm.NO_TRACK
    if read_only:
        flags |= _sealshm.RDONLY
    if lifetime == 'last':
        flags |= _sealshm.LIFETIME_LAST
    if posix:
        flags |= _sealshm.POSIX
    if reserve:
        flags |= _sealshm.RESERVE
    return flags


def _resource_tracker():
    from multiprocessing import resource_tracker
    return resource_tracker


def _manager_socket(socket, manager):
    """Attaching a name of a SharedMemoryManager's from another process:
    its trackerd wants the key first.  A child that multiprocessing started
    has its parent's authkey, which managers use by default."""
    if manager and socket is not None:
        _keys.connect_for_attach(socket)
    return socket


class SharedMemory:
    """Creates a new shared memory block or attaches to an existing
    shared memory block.

    ``SharedMemory(name=None, create=False, size=0, *, track=True)``, as
    CPython's: with ``create=True`` a new segment of exactly ``size`` bytes
    (zeroed) under ``name`` (``None``: a generated ``psm_`` name); else the
    existing segment ``name``, its size taken from it.  ``track=True``
    registers the name in this process family's tracking session: when
    the family ends, the name is unlinked.

    Extras, keyword-only: ``mode`` (create: permission bits, default
    0o600), ``read_only`` (attach read-only: ``buf`` is a read-only
    memoryview), ``lifetime`` (create: ``'first'``, CPython's rule, or
    ``'last'``: the name lives until the last tracking family ends),
    ``socket`` (another trackerd, e.g. a sidecar's), ``posix`` (a classic
    ``/dev/shm`` segment, named and tracked as CPython does it, to share
    with programs that use stock CPython; not size-sealed), ``reserve``
    (create: allocate the memory now; ``MemoryError`` if it is not
    available, instead of a SIGBUS or OOM kill at first touch).
    """

    _seg = None
    _buf = None
    _track = True
    _socket = None
    _posix = False
    _manager = False

    def __init__(self, name=None, create=False, size=0, *, track=True, mode=0o600,
                 read_only=False, lifetime='first', socket=None, posix=False,
                 reserve=False):
        if not size >= 0:
            raise ValueError("'size' must be a positive integer")
        if create and size == 0:
            raise ValueError("'size' must be a positive number different from zero")
        if name is None and not create:
            raise ValueError("'name' can only be None if create=True")
        if (not create and track and socket is None and lifetime == 'first'
                and not (read_only or posix or reserve)):
            # A plain attach, the commonest call: no extras to check or
            # pass (mode is for creating; CPython ignores it here too).
            self._seg = _sealshm.Segment(name, False, 0)
            return
        flags = _flags(track, read_only, lifetime, posix, reserve, create)
        if posix:
            # CPython's resource tracker tracks /dev/shm names; sealshm's
            # library does not (no trackerd): register as CPython does.
            flags |= _sealshm.NO_TRACK
        try:
            self._seg = _sealshm.Segment(name, bool(create), size, flags=flags, mode=mode,
                                         socket=socket)
        except MemoryError:
            raise
        except OSError as e:
            if reserve and e.errno == 12:
                raise MemoryError(f"reserve: {size} bytes are more than this machine or "
                                  f"its memory cgroup has available") from None
            raise
        self._track = track
        self._socket = socket
        self._posix = posix
        if posix and track:
            _resource_tracker().register('/' + self._seg.name, 'shared_memory')

    @classmethod
    def _from_segment(cls, seg, *, socket=None, manager=False, posix=False, track=False):
        """A SharedMemory over an open segment (a list's, a manager's)."""
        self = cls.__new__(cls)
        self._seg = seg
        self._socket = socket
        self._manager = manager
        self._track = track
        self._posix = posix
        return self

    def __del__(self):
        try:
            self.close()
        except (OSError, BufferError):
            pass

    def __reduce__(self):
        # By name, as CPython pickles it: unpickling attaches.  The extras
        # an attach needs travel too; the key of a manager never does.
        extras = {}
        if self._socket is not None:
            extras['socket'] = self._socket
        if self._posix:
            extras['posix'] = True
        if self._manager:
            # The manager owns it: a process it reaches must not track it
            # (that process's end would take the name from the manager).
            extras['_manager'] = True
            extras['track'] = False
        if self._seg is not None and self._seg.readonly:
            extras['read_only'] = True
        if not extras:
            return (self.__class__, (self.name, False, self.size))
        return (_rebuild_shared_memory, (self.__class__, self.name, self.size, extras))

    def __repr__(self):
        return f'{self.__class__.__name__}({self.name!r}, size={self.size})'

    @property
    def buf(self):
        "A memoryview of contents of the shared memory block."
        # Made on first use: an attach that only reads the name or the
        # size, or hands the object on, does not pay for it.  None once
        # closed, as CPython's.
        buf = self._buf
        if buf is None and self._seg is not None and not self._seg.closed:
            buf = self._buf = memoryview(self._seg)
        return buf

    @property
    def name(self):
        "Unique name that identifies the shared memory block."
        return self._seg.name

    @property
    def size(self):
        "Size in bytes."
        return self._seg.size

    def fileno(self):
        "The segment's file descriptor (owned by this object)."
        return self._seg.fileno()

    def close(self):
        """Closes access to the shared memory from this instance but does
        not destroy the shared memory block."""
        if self._buf is not None:
            self._buf.release()
            self._buf = None
        if self._seg is not None:
            self._seg.close()

    def unlink(self):
        """Requests that the underlying shared memory block be destroyed.

        Only the segment this object maps is removed: if its name was
        unlinked and created again since, the newer segment stays and
        FileNotFoundError says so.  Mappings that exist stay valid."""
        if self._seg is None:
            return
        self._seg.unlink()
        if self._posix and self._track:
            _resource_tracker().unregister('/' + self._seg.name, 'shared_memory')

    def seal(self, *, future=False):
        """Publish the segment: nobody writes it any more, ``buf`` included,
        which becomes read-only (with
        ``future=True``: writable mappings that exist now still may, no new
        one can be made).  Read-write attaches are refused from now on.
        Seals cannot be removed."""
        if future:
            self._seg.seal(_sealshm.SEAL_FUTURE_WRITE)
            return
        # Sealing for good remaps the memory read-only: no writable view of
        # it may live on (a write through one would fault).  So ``buf``
        # becomes a read-only memoryview; a view taken from the old one
        # (numpy arrays, slices) makes this BufferError, nothing changed.
        if self._buf is not None:
            self._buf.release()
            self._buf = None      # made again, read-only, on next use
        self._seg.seal(_sealshm.SEAL_WRITE)


def _rebuild_shared_memory(cls, name, size, extras):
    manager = extras.pop('_manager', False)
    socket = _manager_socket(extras.get('socket'), manager)
    shm = cls(name, False, size, **extras)
    shm._manager = manager
    shm._socket = socket
    return shm


class ShareableList(_sealshm.SList):
    """Pattern for a mutable list-like object shareable via a shared
    memory block.  It differs from the built-in list type in that these
    lists can not change their overall length (i.e. no append, insert,
    etc.)

    Items are int (64-bit), float, bool, str, bytes and None, stored with
    CPython's ShareableList bytes, so a list written by one is read by the
    other.  A str or bytes item keeps the room it was created with: a
    longer value is refused and the old one stays.  Unlike CPython's, a
    str's room is counted in UTF-8 bytes and an index below -len raises
    IndexError.  As CPython's, a str or bytes value read back has lost its
    trailing NULs: the bytes CPython defined keep no length to tell them
    from the padding.

    Extras, keyword-only: ``track``, ``mode``, ``read_only``, ``lifetime``,
    ``socket``, ``posix``, as for :class:`SharedMemory`.
    """

    _shm = None
    _socket = None
    _manager = False
    _posix = False
    _track = True

    def __new__(cls, *args, **kwargs):
        # The C type does its work in __init__; its own arguments are not
        # ours (track, lifetime, ...).
        return super().__new__(cls)

    def __init__(self, sequence=None, *, name=None, track=True, mode=0o600,
                 read_only=False, lifetime='first', socket=None, posix=False):
        create = name is None or sequence is not None
        flags = _flags(track, read_only, lifetime, posix, False, create)
        if posix:
            flags |= _sealshm.NO_TRACK
        super().__init__(sequence, name=name, flags=flags, mode=mode, socket=socket)
        self._socket = socket
        self._posix = posix
        self._track = track
        if posix and track:
            # As CPython's ShareableList does, through its SharedMemory.
            _resource_tracker().register('/' + self.segment.name, 'shared_memory')

    @property
    def shm(self):
        "The SharedMemory under the list."
        if self._shm is None:
            self._shm = SharedMemory._from_segment(self.segment, socket=self._socket,
                                                   manager=self._manager, posix=self._posix,
                                                   track=self._track)
        return self._shm

    def __reduce__(self):
        extras = {}
        if self._socket is not None:
            extras['socket'] = self._socket
        if self._posix:
            extras['posix'] = True
        if self._manager:
            extras['_manager'] = True
            extras['track'] = False
        return (_rebuild_shareable_list, (self.__class__, self.shm.name, extras))

    def __repr__(self):
        return f'{self.__class__.__name__}({list(self)}, name={self.shm.name!r})'

    __class_getitem__ = classmethod(types.GenericAlias) if hasattr(types, 'GenericAlias') \
        else classmethod(lambda cls, item: cls)


def _rebuild_shareable_list(cls, name, extras):
    manager = extras.pop('_manager', False)
    socket = _manager_socket(extras.get('socket'), manager)
    sl = cls(name=name, **extras)
    sl._manager = manager
    sl._socket = socket
    return sl


SegmentInfo = namedtuple('SegmentInfo', [
    'name', 'size', 'uid', 'gid', 'mode', 'seals', 'ctime_ns', 'creator_pid', 'lifetime',
    'ino', 'n_sessions', 'session_pids', 'resident', 'n_attaches', 'atime_ns'])
SegmentInfo.__doc__ = """One name as trackerd reports it (sealshm_stat(3)):
owner, mode, seals (a string such as 'shrink,grow,exec'), creation,
lifetime ('first' or 'last'), how many tracking sessions hold it and the
first pid of the oldest, resident bytes, attaches served."""


def _info(d):
    d = dict(d)
    d['seals'] = _sealshm.seals_format(d['seals'])
    return SegmentInfo(**{k: d[k] for k in SegmentInfo._fields})


def segments(*, socket=None):
    """Every segment name the caller may attach, as SegmentInfo tuples."""
    return [_info(d) for d in _sealshm.registry_list(socket=socket)]


def stat(name, *, socket=None):
    """One name's SegmentInfo; FileNotFoundError when there is none."""
    return _info(_sealshm.stat(name, socket=socket))
