# SPDX-License-Identifier: LGPL-2.1-or-later
"""SharedMemoryManager, as ``multiprocessing.managers`` provides it, on a
private trackerd instead of a server process.

``from sealshm.managers import SharedMemoryManager`` replaces the
``multiprocessing.managers`` import: ``start()``, ``shutdown()``, ``with``,
``.SharedMemory(size)``, ``.ShareableList(sequence)``, ``.address`` and
connecting from another process by address and authkey behave as in
CPython.  Differences:

* the manager is a private trackerd, a child of the process that starts
  it; it ignores SIGINT, and when its owner dies (even by ``kill -9``) it
  unlinks every segment and exits (CPython's server outlives a killed
  owner and leaks them);
* ``address`` is the path of a UNIX socket the manager chose; an address
  given to the constructor is only for :meth:`connect`;
* the authkey (default: ``multiprocessing.current_process().authkey``, as
  CPython's) guards the segments too: a process attaches a manager's
  segment after connecting to the manager, which unpickling does by itself
  with the default authkey.
"""

from multiprocessing import ProcessError

from . import _keys
from . import _sealshm
from . import shared_memory

__all__ = ['SharedMemoryManager']


def _authkey(authkey):
    if authkey is None:
        return _keys.default_authkey()
    if isinstance(authkey, str):
        raise TypeError("authkey should be a byte string")
    return bytes(authkey)


class SharedMemoryManager:
    """Like SyncManager but uses a private trackerd instead of a server
    process: every SharedMemory and ShareableList it makes belongs to it and
    goes at its shutdown (or when its owner dies).

    ``SharedMemoryManager(address=None, authkey=None)``: ``start()`` starts
    one (``address`` must be None then: the manager picks its own);
    ``connect()`` reaches the one at ``address``.  ``authkey`` defaults to
    ``multiprocessing.current_process().authkey``.
    """

    def __init__(self, address=None, authkey=None, *, trackerd=None):
        self._address = address
        self._authkey = _authkey(authkey)
        self._trackerd = trackerd
        self._handle = None
        self._state = 'initial'

    def __reduce__(self):
        raise TypeError("a SharedMemoryManager is not pickled: pass its address and "
                        "connect() in the other process")

    @property
    def address(self):
        return self._address

    def start(self, initializer=None, initargs=()):
        """Start the manager (a private trackerd) and return once it answers."""
        if self._state == 'started':
            raise ProcessError("Already started server")
        if self._state == 'shutdown':
            raise ProcessError("Manager has shut down")
        if self._address is not None:
            raise ValueError("a sealshm manager chooses its own address: start() takes "
                             "none (connect() is for an address)")
        if initializer is not None and not callable(initializer):
            raise TypeError('initializer must be a callable')
        self._handle = _sealshm.Manager.start(self._authkey, self._trackerd)
        self._address = self._handle.address
        self._state = 'started'
        # There is no server process to run an initializer in.
        if initializer is not None:
            initializer(*initargs)

    def connect(self):
        """Connect to the manager at ``address`` (started by another process)."""
        if self._address is None:
            raise ValueError("connect() needs the manager's address")
        self._handle = _sealshm.Manager.connect(self._address, self._authkey)
        self._state = 'started'

    def shutdown(self):
        """Unlink every segment of the manager and stop it.  Mappings that
        exist stay valid."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            handle.shutdown()
        self._state = 'shutdown'

    def __enter__(self):
        if self._state == 'initial':
            self.start()
        elif self._state != 'started':
            raise ProcessError("Unable to start server")
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.shutdown()

    def __del__(self):
        handle = getattr(self, '_handle', None)
        if handle is not None:
            try:
                handle.close()
            except OSError:
                pass

    def _started(self):
        if self._handle is None:
            raise ProcessError("SharedMemoryManager is not started" if self._state == 'initial'
                               else "SharedMemoryManager has shut down")
        return self._handle

    def SharedMemory(self, size):
        """Returns a new SharedMemory instance with the specified size in
        bytes, to be tracked by the manager."""
        if not size >= 0:
            raise ValueError("'size' must be a positive integer")
        if size == 0:
            raise ValueError("'size' must be a positive number different from zero")
        self._started()
        # Through the manager's socket, untracked: the name is the
        # manager's (the library presents our key there).
        shm = shared_memory.SharedMemory(None, create=True, size=size, track=False,
                                         socket=self._address)
        shm._manager = True
        return shm

    def ShareableList(self, sequence):
        """Returns a new ShareableList instance populated with the values
        from the input sequence, to be tracked by the manager."""
        self._started()
        sl = shared_memory.ShareableList(sequence, track=False, socket=self._address)
        sl._manager = True
        return sl
