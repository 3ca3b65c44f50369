# SPDX-License-Identifier: LGPL-2.1-or-later
"""Synchronisation objects shared between processes, as
``multiprocessing.synchronize`` provides them, in segments named by
trackerd, and robust to the death of any process.

``sealshm.Lock()``, ``RLock()``, ``Semaphore(value=1)``,
``BoundedSemaphore(value=1)``, ``Condition(lock=None)``, ``Event()`` and
``Barrier(parties, action=None, timeout=None)`` replace
``multiprocessing``'s functions of the same names and behave the same:
``acquire(block=True, timeout=None)`` returns True or False, ``with``
works, releasing too often raises what CPython raises, waits release the
GIL and Ctrl-C (any signal handler's exception) interrupts them.  Processes
that ``multiprocessing`` starts (fork, spawn, forkserver) receive them as
arguments; each object lives in a segment of its own, which the object
that created it unlinks when it is collected, and which the family's
tracking session removes if the family is killed.

Owner death, which CPython has no answer to (its lock then stays held for
ever): when a process dies holding a Lock or an RLock, the next
``acquire()`` (or a ``Condition.wait()`` re-acquiring it) gets the lock
and returns True, warns with :class:`sealshm.OwnerDiedWarning` (a
``RuntimeWarning``), and marks the lock consistent again; the lock's
``owner_died`` attribute is True until that holder releases it.  What the
lock guarded may be half-changed: check or repair it while holding the
lock.  Turned into an error (``warnings.simplefilter('error',
OwnerDiedWarning)``), the warning raises from ``acquire()`` and the lock
is released.  A party that dies while waiting breaks a :class:`Barrier`
(``threading.BrokenBarrierError`` for the others, not a hang).

Differences from CPython, all on purpose:

* the objects pickle as references (name, trackerd socket, kind), so they
  travel anywhere, through a Queue or to a Pool's workers too (CPython
  allows it only while starting a process);
* a Lock belongs to the process that acquired it: a thread of that
  process releases it (any thread, as in CPython), another process gets
  ``PermissionError`` (CPython's Lock is a semaphore anyone may release);
* ``Condition.wait`` and ``notify`` raise ``RuntimeError`` with
  ``threading``'s words when the lock is not held (CPython's assert
  raises ``AssertionError``), and ``wait`` may return True without a
  notify, as condition variables may: check the predicate, or use
  ``wait_for``;
* ``Semaphore.get_value()`` works everywhere (CPython raises
  ``NotImplementedError`` on macOS); ``Semaphore(value, robust=True)``
  gives the units a dead process held back to the semaphore;
* a ``Barrier`` takes 1 to 240 parties;
* ``BoundedSemaphore(0)`` is refused (``ValueError``);
* keyword-only extra: ``socket`` (another trackerd, e.g. a sidecar's);
  ``ctx`` is accepted and ignored.
"""

import os
import threading
import time

from . import _sealshm

__all__ = ['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Condition', 'Event', 'Barrier',
           'OwnerDiedWarning']

OwnerDiedWarning = _sealshm.OwnerDiedWarning


def _owner_name():
    from multiprocessing import process
    name = process.current_process().name
    if threading.current_thread().name != 'MainThread':
        name += '|' + threading.current_thread().name
    return name


def _rebuild(base, cls, name, socket):
    """The object of class @cls (a subclass of the extension type @base)
    named @name, attached: what unpickling makes."""
    return base.__new__(cls, name, create=False, socket=socket)


class Lock(_sealshm.Lock):
    """A non-recursive lock shared between processes, as
    ``multiprocessing.Lock()`` makes it.

    ``acquire(block=True, timeout=None)`` returns True once held, False
    when ``block`` is false and the lock is held, or when ``timeout``
    seconds pass first; ``release()`` raises ``ValueError`` when the lock
    is not held.  ``owner_died`` is True after an acquire that inherited
    the lock of a dead holder, until its release (see the module's
    documentation).
    """

    # No __dict__: a method is found on the type, not looked for in the
    # instance first (acquire and release stay as cheap as CPython's).
    __slots__ = ()

    def __new__(cls, *, ctx=None, socket=None):
        return super().__new__(cls, None, socket=socket)

    def __reduce__(self):
        return (_rebuild, (_sealshm.Lock, self.__class__, self.name, self.socket))

    def __repr__(self):
        try:
            if self._is_mine():
                name = _owner_name()
            else:
                info = self.info()
                if not info['held']:
                    name = 'None'
                elif info['holder_pid'] == os.getpid():
                    name = 'SomeOtherThread'
                else:
                    name = 'SomeOtherProcess'
        except Exception:
            name = 'unknown'
        return '<%s(owner=%s)>' % (self.__class__.__name__, name)


class RLock(_sealshm.RLock):
    """A recursive lock shared between processes, as
    ``multiprocessing.RLock()`` makes it: the thread holding it may acquire
    it again, and releases it as many times.  ``release()`` by a thread
    that does not hold it raises ``AssertionError``, as CPython's.
    ``owner_died`` as for :class:`Lock`.
    """

    __slots__ = ()

    def __new__(cls, *, ctx=None, socket=None):
        return super().__new__(cls, None, socket=socket)

    def __reduce__(self):
        return (_rebuild, (_sealshm.RLock, self.__class__, self.name, self.socket))

    def __repr__(self):
        try:
            if self._is_mine():
                name = _owner_name()
                count = self.info()['value']
            else:
                info = self.info()
                if not info['held']:
                    name, count = 'None', 0
                elif info['holder_pid'] == os.getpid():
                    name, count = 'SomeOtherThread', 'nonzero'
                else:
                    name, count = 'SomeOtherProcess', 'nonzero'
        except Exception:
            name, count = 'unknown', 'unknown'
        return '<%s(%s, %s)>' % (self.__class__.__name__, name, count)


class Semaphore(_sealshm.Semaphore):
    """A semaphore shared between processes, as
    ``multiprocessing.Semaphore(value=1)`` makes it.  ``get_value()``
    returns the value.  Keyword-only ``robust=True``: the units a process
    acquired and had not released when it died come back.
    """

    __slots__ = ()

    def __new__(cls, value=1, *, ctx=None, robust=False, socket=None):
        return super().__new__(cls, None, value=value, robust=robust, socket=socket)

    def __reduce__(self):
        return (_rebuild, (_sealshm.Semaphore, self.__class__, self.name, self.socket))

    def __repr__(self):
        try:
            value = self.get_value()
        except Exception:
            value = 'unknown'
        return '<%s(value=%s)>' % (self.__class__.__name__, value)


class BoundedSemaphore(Semaphore):
    """A semaphore whose value never exceeds its initial one, as
    ``multiprocessing.BoundedSemaphore(value=1)`` makes it: a ``release()``
    beyond raises ``ValueError``.
    """

    __slots__ = ()

    def __new__(cls, value=1, *, ctx=None, robust=False, socket=None):
        if isinstance(value, int) and value == 0:
            raise ValueError("a BoundedSemaphore's value must be at least 1 (one of 0 "
                             "could never be released)")
        return _sealshm.Semaphore.__new__(cls, None, value=value, max=value, robust=robust,
                                          socket=socket)

    def __repr__(self):
        try:
            value = self.get_value()
        except Exception:
            value = 'unknown'
        return '<%s(value=%s, maxvalue=%s)>' % (self.__class__.__name__, value, self.maxvalue)


class Event(_sealshm.Event):
    """An event shared between processes, as ``multiprocessing.Event()``
    makes it: ``set()``, ``clear()``, ``is_set()``, and ``wait(timeout=None)``
    returning True once set, False when the timeout passed first.
    """

    __slots__ = ()

    def __new__(cls, *, ctx=None, socket=None):
        return super().__new__(cls, None, socket=socket)

    def __reduce__(self):
        return (_rebuild, (_sealshm.Event, self.__class__, self.name, self.socket))

    def __repr__(self):
        try:
            status = 'set' if self.is_set() else 'unset'
        except Exception:
            status = 'unknown'
        return f"<{type(self).__qualname__} at {id(self):#x} {status}>"


def _rebuild_condition(cls, name, socket, lock):
    self = _sealshm.Condition.__new__(cls, lock, name, create=False, socket=socket)
    self._make_methods()
    return self


class Condition(_sealshm.Condition):
    """A condition variable shared between processes, as
    ``multiprocessing.Condition(lock=None)`` makes it, over a sealshm
    :class:`Lock` or :class:`RLock` (None: a new RLock).

    ``acquire``/``release``/``with`` are the lock's; ``wait(timeout=None)``
    returns False when the timeout passed, else True (possibly without a
    notify: recheck, or use ``wait_for(predicate, timeout=None)``);
    ``notify(n=1)`` and ``notify_all()``.  Each raises ``RuntimeError``
    unless the calling thread holds the lock.
    """

    __slots__ = ('acquire', 'release')

    def __new__(cls, lock=None, *, ctx=None, socket=None):
        if lock is None:
            lock = RLock(socket=socket)
        self = super().__new__(cls, lock, socket=socket)
        self._make_methods()
        return self

    def _make_methods(self):
        "The lock's acquire and release, as this object's (CPython's way)."
        self.acquire = self.lock.acquire
        self.release = self.lock.release

    @property
    def _lock(self):
        return self.lock

    def __reduce__(self):
        return (_rebuild_condition, (self.__class__, self.name, self.socket, self.lock))

    def __enter__(self):
        return self.lock.__enter__()

    def __exit__(self, *args):
        return self.lock.__exit__(*args)

    def __repr__(self):
        try:
            num_waiters = self.info()['waiters']
        except Exception:
            num_waiters = 'unknown'
        return '<%s(%s, %s)>' % (self.__class__.__name__, self.lock, num_waiters)

    def wait_for(self, predicate, timeout=None):
        """Wait until ``predicate()`` is true, at most ``timeout`` seconds
        (None: no limit); returns the predicate's last value."""
        result = predicate()
        if result:
            return result
        deadline = None if timeout is None else time.monotonic() + timeout
        while not result:
            if deadline is None:
                self.wait()
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.wait(left)
            result = predicate()
        return result


def _rebuild_barrier(cls, name, socket, action, timeout):
    self = _sealshm.Barrier.__new__(cls, 0, name, create=False, socket=socket)
    self._action = action
    self._timeout = timeout
    return self


class Barrier(_sealshm.Barrier):
    """A barrier shared between processes, as
    ``multiprocessing.Barrier(parties, action=None, timeout=None)`` makes
    it (``threading.Barrier``'s behaviour).

    ``wait(timeout=None)`` returns the arrival index (0 .. parties - 1;
    the default timeout is the constructor's), or raises
    ``threading.BrokenBarrierError`` when the barrier is broken: by
    ``abort()``, by a ``reset()`` while waiting, by a wait that timed out,
    or by a party that died.  The last party to arrive runs ``action``
    before the others go; an exception in it breaks the barrier and
    propagates.  ``parties``, ``n_waiting``, ``broken``.
    """

    __slots__ = ('_action', '_timeout')

    def __new__(cls, parties, action=None, timeout=None, *, ctx=None, socket=None):
        self = super().__new__(cls, parties, socket=socket)
        self._action = action
        self._timeout = timeout
        return self

    def __reduce__(self):
        return (_rebuild_barrier, (self.__class__, self.name, self.socket, self._action,
                                   self._timeout))

    def wait(self, timeout=None):
        """Wait for the barrier; returns this party's arrival index."""
        if timeout is None:
            timeout = self._timeout
        if self._action is None:
            return super().wait(timeout)
        index = super().wait(timeout, True)
        if index == self.parties - 1:
            # The last to arrive: the others wait for the action.
            try:
                self._action()
            except BaseException:
                self.abort()
                raise
            self.pass_()
        return index

    def __repr__(self):
        cls = self.__class__
        try:
            if self.broken:
                return f"<{cls.__module__}.{cls.__qualname__} at {id(self):#x}: broken>"
            return (f"<{cls.__module__}.{cls.__qualname__} at {id(self):#x}:"
                    f" waiters={self.n_waiting}/{self.parties}>")
        except Exception:
            return f"<{cls.__module__}.{cls.__qualname__} at {id(self):#x}: closed>"
