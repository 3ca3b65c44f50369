# SPDX-License-Identifier: LGPL-2.1-or-later
"""The keys of SharedMemoryManagers, below both shared_memory (which
attaches a manager's segments when unpickling) and managers (which starts
and connects to them).

A manager's trackerd wants its key before it serves anything.  This
process's default key is multiprocessing's authkey, which a child that
multiprocessing started has from its parent.
"""

import os
import threading

from . import _sealshm


def default_authkey():
    from multiprocessing import current_process
    return bytes(current_process().authkey)


# Connections this process made to managers only to attach their segments
# (unpickled SharedMemory and ShareableList objects): kept open, one per
# address, so the key stays known to the library.  Keyed by pid: a forked
# child inherits the library's keys with its handles.
_attach_handles = {}
_attach_lock = threading.Lock()


def connect_for_attach(address):
    """Present the default key to the manager at ``address`` once in this
    process, so that attaching its names works."""
    key = (os.getpid(), address)
    with _attach_lock:
        if key in _attach_handles:
            return
        _attach_handles[key] = _sealshm.Manager.connect(address, default_authkey())
