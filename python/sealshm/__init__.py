# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm: what multiprocessing shares between processes, in sealed memfd
segments named by trackerd.

Change an import and nothing else:

    from sealshm import shared_memory          # multiprocessing.shared_memory
    from sealshm.managers import SharedMemoryManager

Processes that multiprocessing starts, with any start method, share their
parent's tracking session, as they share CPython's resource tracker.
"""

from . import _sealshm
from . import _family
from . import shared_memory
from . import managers

__all__ = ['shared_memory', 'managers']
__version__ = _sealshm.version()

_family._install()
