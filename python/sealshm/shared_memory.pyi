# SPDX-License-Identifier: LGPL-2.1-or-later
import sys
from typing import Any, Generic, Iterable, List, NamedTuple, Optional, TypeVar, Union

__all__ = ['SharedMemory', 'ShareableList', 'segments', 'stat', 'SegmentInfo']

_SLT = TypeVar('_SLT', int, float, bool, str, bytes, None)


class SharedMemory:
    def __init__(self, name: Optional[str] = None, create: bool = False, size: int = 0, *,
                 track: bool = True, mode: int = 0o600, read_only: bool = False,
                 lifetime: str = 'first', socket: Optional[str] = None, posix: bool = False,
                 reserve: bool = False) -> None: ...
    @property
    def buf(self) -> Optional[memoryview]: ...
    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    def fileno(self) -> int: ...
    def close(self) -> None: ...
    def unlink(self) -> None: ...
    def seal(self, *, future: bool = False) -> None: ...


class ShareableList(Generic[_SLT]):
    shm: SharedMemory
    def __init__(self, sequence: Optional[Iterable[_SLT]] = None, *, name: Optional[str] = None,
                 track: bool = True, mode: int = 0o600, read_only: bool = False,
                 lifetime: str = 'first', socket: Optional[str] = None,
                 posix: bool = False) -> None: ...
    def __getitem__(self, position: int) -> _SLT: ...
    def __setitem__(self, position: int, value: _SLT) -> None: ...
    def __len__(self) -> int: ...
    @property
    def format(self) -> str: ...
    def count(self, value: _SLT) -> int: ...
    def index(self, value: _SLT) -> int: ...


class SegmentInfo(NamedTuple):
    name: str
    size: int
    uid: int
    gid: int
    mode: int
    seals: str
    ctime_ns: int
    creator_pid: int
    lifetime: str
    ino: int
    n_sessions: int
    session_pids: List[int]
    resident: int
    n_attaches: int
    atime_ns: int


def segments(*, socket: Optional[str] = None) -> List[SegmentInfo]: ...
def stat(name: str, *, socket: Optional[str] = None) -> SegmentInfo: ...
