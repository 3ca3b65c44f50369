# SPDX-License-Identifier: LGPL-2.1-or-later
"""Processes that multiprocessing starts join their parent's tracking
session, with every start method, as they share CPython's resource tracker.

fork needs nothing: the child inherits the session's socket.  spawn and
forkserver exec a new interpreter through multiprocessing.util.spawnv_passfds(),
which passes only the fds it is given (the resource tracker's among them).
sealshm wraps it: the first time, the family's session is exported (a new
close-on-exec fd of it, and $SEALSHM_SESSION naming that fd) and from then
on that fd is passed too.  The library adopts the session named by
$SEALSHM_SESSION when it loads in the child (the forkserver passes it on to
what it forks).  A program started otherwise (subprocess, a shell) does not
get the fd, so it has a session of its own, as it would have a resource
tracker of its own.
"""

import os
import threading

from . import _sealshm

_lock = threading.Lock()
_exported = None		# (fd, value) of this family's session


def _session_fd():
    """The fd to pass, exporting the session the first time; None when
    there is no trackerd to open one with (children then open their own)."""
    global _exported
    with _lock:
        if _exported is None:
            try:
                fd, value = _sealshm.session_export()
            except OSError:
                return None
            _exported = (fd, value)
        fd, value = _exported
        # Set for every spawn: someone may have removed it meanwhile.
        os.environ[_sealshm.SESSION_ENV] = value
        return fd


def _install():
    from multiprocessing import util

    original = util.spawnv_passfds
    if getattr(original, '_sealshm_session', False):
        return

    def spawnv_passfds(path, args, passfds):
        fd = _session_fd()
        if fd is not None and fd not in passfds:
            passfds = list(passfds) + [fd]
        return original(path, args, passfds)

    spawnv_passfds._sealshm_session = True
    spawnv_passfds.__wrapped__ = original
    spawnv_passfds.__doc__ = original.__doc__
    util.spawnv_passfds = spawnv_passfds
