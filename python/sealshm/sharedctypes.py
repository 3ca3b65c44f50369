# SPDX-License-Identifier: LGPL-2.1-or-later
"""ctypes objects in shared memory, as ``multiprocessing.sharedctypes``
makes them: ``Value``, ``Array``, ``RawValue``, ``RawArray``,
``synchronized`` and ``copy``, with the same behaviour.

The objects are real ctypes objects (``c_int``, ``c_double * 10``, a
``ctypes.Structure`` subclass, ...) over the items of a shared array, with
no copy: ``.value``, indexing, slicing, a ``c_char`` array's ``.value``
and ``.raw``, ``memoryview()`` and ``numpy.frombuffer()`` all see the
shared memory.  Many small objects share one segment: each process
allocates them from an arena of its own (one per trackerd socket), whose
segments are tracked like any other name (a family killed with -9 leaves
nothing) and go once the arena is closed (at exit) and every process
holding one of their objects has dropped it.

``Value(..., lock=True)`` and ``Array(..., lock=True)`` carry their RLock
in the same block (no segment of its own): ``get_lock()`` returns it as a
:class:`sealshm.synchronize.RLock`, robust to the death of its holder
like every sealshm lock.  ``lock=False`` gives the raw object;
``lock=<a lock>`` (a sealshm Lock or RLock, or any object with
``acquire``/``release``) synchronizes with it.

Processes that ``multiprocessing`` starts (fork, spawn, forkserver)
receive the objects as arguments: each one attaches the block and holds a
reference of its own, dropped when its object is collected.  As in
CPython, pickling them outside a process start raises ``RuntimeError``
("... objects should only be shared between processes through
inheritance").

Differences from CPython:

* typecode ``'?'`` (``c_bool``) is accepted besides CPython's;
* ``lock=True`` uses the object's own embedded RLock, not a new one of
  the context: ``get_lock()`` is that lock (a sealshm RLock);
* keyword-only extra ``socket``: the trackerd whose arena holds the
  object (another trackerd, e.g. a sidecar's); ``ctx`` is accepted and
  ignored.
"""

import atexit
import ctypes
import os
import threading
import weakref

from multiprocessing import reduction as _reduction
from multiprocessing.context import assert_spawning

from . import _sealshm
from . import synchronize

__all__ = ['RawValue', 'RawArray', 'Value', 'Array', 'copy', 'synchronized',
           'Synchronized', 'SynchronizedArray', 'SynchronizedString', 'SynchronizedBase']

typecode_to_type = {
    'c': ctypes.c_char,     'u': ctypes.c_wchar,
    'b': ctypes.c_byte,     'B': ctypes.c_ubyte,
    'h': ctypes.c_short,    'H': ctypes.c_ushort,
    'i': ctypes.c_int,      'I': ctypes.c_uint,
    'l': ctypes.c_long,     'L': ctypes.c_ulong,
    'q': ctypes.c_longlong, 'Q': ctypes.c_ulonglong,
    'f': ctypes.c_float,    'd': ctypes.c_double,
    '?': ctypes.c_bool,
}

# The ctypes types whose items the C side knows by typecode (their _type_
# is the typecode); any other type is stored as a struct of its size.
_TYPECODE = {t: t._type_ for t in typecode_to_type.values() if t._type_ in 'cbB?hHiIlLqQfd'}
# Of those, the ones whose slices memoryview gives as ctypes does (a
# c_char array's slice is bytes: left to ctypes).
_VIEW_TYPES = {t: code for t, code in _TYPECODE.items() if code != 'c'}


# --- the arenas: one per trackerd socket, in each process -------------------

_arenas = {}
_arenas_lock = threading.Lock()


def _arena(socket):
    key = (os.getpid(), socket)
    arena = _arenas.get(key)
    if arena is None or arena.closed:
        with _arenas_lock:
            arena = _arenas.get(key)
            if arena is None or arena.closed:
                # A forked child's copies are its parent's: forgotten here
                # (closing them is the parent's business).
                for k in [k for k in _arenas if k[0] != key[0]]:
                    del _arenas[k]
                arena = _arenas[key] = _sealshm.Arena(socket=socket)
    return arena


def _close_arenas():
    """Close this process's arenas: no new block from them, and each
    segment's name goes once none of its blocks is held.  The next object
    opens a new arena.  Called at exit."""
    with _arenas_lock:
        for key in list(_arenas):
            if key[0] == os.getpid():
                _arenas.pop(key).close()


atexit.register(_close_arenas)


# --- the shared memory under a ctypes object ------------------------------

def _attach(cls, ref, socket):
    return _sealshm.SharedArray.__new__(cls, ref=ref, socket=socket)


class _Buffer(_sealshm.SharedArray):
    """A shared array's items: what a ctypes object is made over
    (``from_buffer``), kept as its ``_wrapper`` (CPython's
    heap.BufferWrapper plays that part: same ``create_memoryview()``)."""

    __slots__ = ()

    def create_memoryview(self):
        return memoryview(self)

    def __reduce__(self):
        assert_spawning(self)
        return (_attach, (self.__class__, self.ref(), self.socket))


class _ArrayLock:
    """The lock inside a shared array, as a sealshm lock object that
    pickles as the array's."""

    __slots__ = ()

    def __reduce__(self):
        return (_array_lock, (self._owner,))


class _ArrayRLock(_ArrayLock, synchronize.RLock):
    __slots__ = ('_owner',)


class _ArrayPlainLock(_ArrayLock, synchronize.Lock):
    __slots__ = ('_owner',)


# As their repr() shows them: an RLock, a Lock.
_ArrayRLock.__name__ = _ArrayRLock.__qualname__ = 'RLock'
_ArrayPlainLock.__name__ = _ArrayPlainLock.__qualname__ = 'Lock'


def _array_lock(buf):
    lock = buf.make_lock(_ArrayRLock if buf.lock_kind == 'rlock' else _ArrayPlainLock)
    lock._owner = buf
    return lock


def _geometry(type_):
    """(typecode, length, item_size, item_align) of the shared array that
    holds one object of ctypes type @type_."""
    size = ctypes.sizeof(type_)
    if size == 0:
        # An empty array or structure takes a byte, as CPython's heap
        # gives it one.
        return '', 1, 1, 1
    if issubclass(type_, ctypes.Array) and type_._length_ > 0:
        code = _TYPECODE.get(type_._type_)
        if code is not None:
            return code, type_._length_, 0, 0
        elem = type_._type_
        if ctypes.sizeof(elem) > 0 and ctypes.alignment(elem) <= 16:
            return '', type_._length_, ctypes.sizeof(elem), ctypes.alignment(elem)
    code = _TYPECODE.get(type_)
    if code is not None:
        return code, 1, 0, 0
    # A struct of the object's size.
    return '', 1, size, min(ctypes.alignment(type_), 16)


def _new_value(type_, lock=None, socket=None, value=False):
    code, length, item_size, item_align = _geometry(type_)
    buf = _Buffer(code, length, arena=_arena(socket), item_size=item_size,
                  item_align=item_align, lock=lock, value=value and length == 1)
    return rebuild_ctype(type_, buf, None)


def _type_of(typecode_or_type):
    return typecode_to_type.get(typecode_or_type, typecode_or_type)


def _raw_value(typecode_or_type, args, lock, socket):
    type_ = _type_of(typecode_or_type)
    obj = _new_value(type_, lock, socket, value=True)
    obj.__init__(*args)
    return obj


def _raw_array(typecode_or_type, size_or_initializer, lock, socket):
    type_ = _type_of(typecode_or_type)
    if isinstance(size_or_initializer, int):
        return _new_value(type_ * size_or_initializer, lock, socket)
    type_ = type_ * len(size_or_initializer)
    result = _new_value(type_, lock, socket)
    result.__init__(*size_or_initializer)
    return result


def RawValue(typecode_or_type, *args, socket=None):
    """A ctypes object in shared memory (zeroed, then ``__init__(*args)``)."""
    return _raw_value(typecode_or_type, args, None, socket)


def RawArray(typecode_or_type, size_or_initializer, *, socket=None):
    """A ctypes array in shared memory: of ``size_or_initializer`` zeroed
    items, or holding the items of that sequence."""
    return _raw_array(typecode_or_type, size_or_initializer, None, socket)


def _with_lock(make, lock, ctx):
    if lock is False:
        return make(None)
    if lock in (True, None):
        obj = make('rlock')
        return synchronized(obj, _array_lock(obj._wrapper), ctx=ctx)
    if not hasattr(lock, 'acquire'):
        raise AttributeError("%r has no method 'acquire'" % lock)
    return synchronized(make(None), lock, ctx=ctx)


def Value(typecode_or_type, *args, lock=True, ctx=None, socket=None):
    """A synchronized wrapper of a RawValue (``lock=False``: the raw
    object); ``lock=True`` gives it an RLock of its own."""
    return _with_lock(lambda kind: _raw_value(typecode_or_type, args, kind, socket), lock, ctx)


def Array(typecode_or_type, size_or_initializer, *, lock=True, ctx=None, socket=None):
    """A synchronized wrapper of a RawArray (``lock=False``: the raw
    object); ``lock=True`` gives it an RLock of its own."""
    return _with_lock(lambda kind: _raw_array(typecode_or_type, size_or_initializer, kind,
                                              socket), lock, ctx)


def copy(obj):
    """A new raw object in shared memory with @obj's content."""
    new_obj = _new_value(type(obj))
    ctypes.pointer(new_obj)[0] = obj
    return new_obj


def synchronized(obj, lock=None, ctx=None):
    """A synchronized wrapper of the ctypes object @obj using @lock (None:
    a new sealshm RLock)."""
    assert not isinstance(obj, SynchronizedBase), 'object already synchronized'
    if isinstance(obj, ctypes._SimpleCData):
        return Synchronized(obj, lock, ctx)
    elif isinstance(obj, ctypes.Array):
        if obj._type_ is ctypes.c_char:
            return SynchronizedString(obj, lock, ctx)
        return SynchronizedArray(obj, lock, ctx)
    else:
        cls = type(obj)
        try:
            scls = class_cache[cls]
        except KeyError:
            names = [field[0] for field in cls._fields_]
            d = {name: make_property(name) for name in names}
            classname = 'Synchronized' + cls.__name__
            scls = class_cache[cls] = type(classname, (SynchronizedBase,), d)
        return scls(obj, lock, ctx)


# --- pickling: by reference, while starting a process ----------------------

def reduce_ctype(obj):
    assert_spawning(obj)
    wrapper = getattr(obj, '_wrapper', None)
    if wrapper is None:
        # Not a shared object: pickled as ctypes pickles it.
        return obj.__reduce_ex__(2)
    if isinstance(obj, ctypes.Array):
        return rebuild_ctype, (obj._type_, wrapper, obj._length_)
    return rebuild_ctype, (type(obj), wrapper, None)


def rebuild_ctype(type_, wrapper, length):
    if length is not None:
        type_ = type_ * length
    _reduction.ForkingPickler.register(type_, reduce_ctype)
    obj = type_.from_buffer(wrapper.create_memoryview())
    obj._wrapper = wrapper
    return obj


# --- synchronized wrappers ---------------------------------------------------

def _make_property(name):
    def get(self):
        self.acquire()
        try:
            return getattr(self._obj, name)
        finally:
            self.release()

    def set(self, value):
        self.acquire()
        try:
            setattr(self._obj, name, value)
        finally:
            self.release()

    return property(get, set)


def make_property(name):
    try:
        return prop_cache[name]
    except KeyError:
        prop = prop_cache[name] = _make_property(name)
        return prop


prop_cache = {}
class_cache = weakref.WeakKeyDictionary()


def _default_lock(lock):
    return lock if lock else synchronize.RLock()


class SynchronizedBase(object):

    def __init__(self, obj, lock=None, ctx=None):
        self._obj = obj
        self._lock = _default_lock(lock)
        self.acquire = self._lock.acquire
        self.release = self._lock.release

    def __enter__(self):
        return self._lock.__enter__()

    def __exit__(self, *args):
        return self._lock.__exit__(*args)

    def __reduce__(self):
        assert_spawning(self)
        return synchronized, (self._obj, self._lock)

    def get_obj(self):
        return self._obj

    def get_lock(self):
        return self._lock

    def __repr__(self):
        return '<%s wrapper for %s>' % (type(self).__name__, self._obj)


class Synchronized(_sealshm.SyncValue, SynchronizedBase):
    """``value`` read and written holding the lock (in C when the lock is
    the object's own RLock)."""

    def __init__(self, obj, lock=None, ctx=None):
        lock = _default_lock(lock)
        wrapper = getattr(obj, '_wrapper', None)
        fast = (wrapper if isinstance(wrapper, _sealshm.SharedArray)
                and type(obj) in _TYPECODE else None)
        _sealshm.SyncValue.__init__(self, obj, lock, fast)
        self.acquire = lock.acquire
        self.release = lock.release


def _fast_view(obj):
    """A memoryview of @obj's items in the items' format, when slicing it
    gives what slicing @obj does; else None."""
    wrapper = getattr(obj, '_wrapper', None)
    code = _VIEW_TYPES.get(obj._type_)
    if (code is None or not isinstance(wrapper, _sealshm.SharedArray) or len(obj) == 0
            or wrapper.typecode != code or wrapper.length != len(obj)):
        return None
    return memoryview(wrapper).cast(code)


class SynchronizedArray(SynchronizedBase):

    def __init__(self, obj, lock=None, ctx=None):
        super().__init__(obj, lock, ctx)
        self._view = _fast_view(obj)

    def __len__(self):
        return len(self._obj)

    def __getitem__(self, i):
        if type(i) is slice and self._view is not None:
            # One list built in C, where ctypes makes each item in turn.
            with self._lock:
                return self._view[i].tolist()
        with self:
            return self._obj[i]

    def __setitem__(self, i, value):
        with self:
            self._obj[i] = value

    def __getslice__(self, start, stop):
        with self:
            return self._obj[start:stop]

    def __setslice__(self, start, stop, values):
        with self:
            self._obj[start:stop] = values


class SynchronizedString(SynchronizedArray):
    value = make_property('value')
    raw = make_property('raw')
