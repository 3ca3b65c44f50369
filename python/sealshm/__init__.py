# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm: what multiprocessing shares between processes, in sealed memfd
segments named by trackerd.

Change an import and nothing else:

    from sealshm import shared_memory          # multiprocessing.shared_memory
    from sealshm.managers import SharedMemoryManager
    import sealshm; sealshm.Lock()             # multiprocessing.Lock(), RLock(), ...

Processes that multiprocessing starts, with any start method, share their
parent's tracking session, as they share CPython's resource tracker.
Value, Array, RawValue and RawArray (sealshm.sharedctypes) put ctypes
objects in shared memory.  Lock, RLock, Semaphore, BoundedSemaphore,
Condition, Event and Barrier (sealshm.synchronize) survive the death of
any process using them: OwnerDiedWarning says when a lock was inherited
from a dead holder.
"""

from . import _sealshm
from . import _family
from . import shared_memory
from . import managers
from . import synchronize
from . import sharedctypes
from .synchronize import OwnerDiedWarning

__all__ = ['shared_memory', 'managers', 'synchronize', 'sharedctypes', 'Lock', 'RLock',
           'Semaphore', 'BoundedSemaphore', 'Condition', 'Event', 'Barrier', 'Value', 'Array',
           'RawValue', 'RawArray', 'OwnerDiedWarning']
__version__ = _sealshm.version()

_family._install()


# multiprocessing's functions of these names (its default context's
# methods): each returns a new object of sealshm.synchronize.

def Lock():
    """Returns a non-recursive lock object (sealshm.synchronize.Lock)."""
    return synchronize.Lock()


def RLock():
    """Returns a recursive lock object (sealshm.synchronize.RLock)."""
    return synchronize.RLock()


def Condition(lock=None):
    """Returns a condition object (sealshm.synchronize.Condition) over
    ``lock``, a sealshm Lock or RLock (None: a new RLock)."""
    return synchronize.Condition(lock)


def Semaphore(value=1):
    """Returns a semaphore object (sealshm.synchronize.Semaphore)."""
    return synchronize.Semaphore(value)


def BoundedSemaphore(value=1):
    """Returns a bounded semaphore object (sealshm.synchronize.BoundedSemaphore)."""
    return synchronize.BoundedSemaphore(value)


def Event():
    """Returns an event object (sealshm.synchronize.Event)."""
    return synchronize.Event()


def Barrier(parties, action=None, timeout=None):
    """Returns a barrier object (sealshm.synchronize.Barrier)."""
    return synchronize.Barrier(parties, action, timeout)


def RawValue(typecode_or_type, *args):
    """Returns a shared object (sealshm.sharedctypes.RawValue)."""
    return sharedctypes.RawValue(typecode_or_type, *args)


def RawArray(typecode_or_type, size_or_initializer):
    """Returns a shared array (sealshm.sharedctypes.RawArray)."""
    return sharedctypes.RawArray(typecode_or_type, size_or_initializer)


def Value(typecode_or_type, *args, lock=True):
    """Returns a synchronized shared object (sealshm.sharedctypes.Value)."""
    return sharedctypes.Value(typecode_or_type, *args, lock=lock)


def Array(typecode_or_type, size_or_initializer, *, lock=True):
    """Returns a synchronized shared array (sealshm.sharedctypes.Array)."""
    return sharedctypes.Array(typecode_or_type, size_or_initializer, lock=lock)
