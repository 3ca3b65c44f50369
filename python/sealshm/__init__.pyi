# SPDX-License-Identifier: LGPL-2.1-or-later
from . import managers as managers, shared_memory as shared_memory

__all__ = ['shared_memory', 'managers']
__version__: str
