# SPDX-License-Identifier: LGPL-2.1-or-later
import threading
from typing import Any, Callable, Optional, TypeVar

from . import _sealshm

__all__ = ['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Condition', 'Event', 'Barrier',
           'OwnerDiedWarning']

_T = TypeVar('_T')

OwnerDiedWarning = _sealshm.OwnerDiedWarning


class Lock(_sealshm.Lock):
    def __init__(self, *, ctx: Any = None, socket: Optional[str] = None) -> None: ...


class RLock(_sealshm.RLock):
    def __init__(self, *, ctx: Any = None, socket: Optional[str] = None) -> None: ...


class Semaphore(_sealshm.Semaphore):
    def __init__(self, value: int = 1, *, ctx: Any = None, robust: bool = False,
                 socket: Optional[str] = None) -> None: ...


class BoundedSemaphore(Semaphore): ...


class Event(_sealshm.Event):
    def __init__(self, *, ctx: Any = None, socket: Optional[str] = None) -> None: ...


class Condition(_sealshm.Condition):
    def __init__(self, lock: Optional[_sealshm.Lock] = None, *, ctx: Any = None,
                 socket: Optional[str] = None) -> None: ...
    def acquire(self, block: bool = True, timeout: Optional[float] = None) -> bool: ...
    def release(self) -> None: ...
    def __enter__(self) -> bool: ...
    def __exit__(self, *args: Any) -> None: ...
    def wait_for(self, predicate: Callable[[], _T], timeout: Optional[float] = None) -> _T: ...


class Barrier(_sealshm.Barrier):
    def __init__(self, parties: int, action: Optional[Callable[[], Any]] = None,
                 timeout: Optional[float] = None, *, ctx: Any = None,
                 socket: Optional[str] = None) -> None: ...
    def wait(self, timeout: Optional[float] = None) -> int: ...  # type: ignore[override]
