# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm._sealshm.SList: items both ways, CPython's exceptions and
messages, its bytes (checked against CPython's own ShareableList over
/dev/shm), the borrowed segment, subclassing, refcounts, leaks."""

import errno
import gc
import math
import os
import struct
import sys
import unittest
import weakref

from sealshm import _sealshm
from ext_support import TrackerdTestCase, child, fd_count

ITEMS = [1, -2**63, 2**63 - 1, 2.5, -0.0, float('inf'), True, False, 'howdy', 'héllo wörld',
         '', b'HoWdY', b'', b'a\0b', None, 0]
Q_MSG = "'q' format requires -9223372036854775808 <= number <= 9223372036854775807"


def same(a, b):
    """Equal and of the same type (1 is not True, 0.0 is not -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or \
            (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


class SListTest(TrackerdTestCase):

    def slist(self, seq=None, **kw):
        sl = _sealshm.SList(seq, **kw)
        self.addCleanup(self._drop_list, sl)
        return sl

    @staticmethod
    def _drop_list(sl):
        seg = sl.segment
        try:
            seg.unlink()
        except FileNotFoundError:
            pass
        sl.close()

    def test_items_round_trip(self):
        sl = self.slist(ITEMS)
        self.assertEqual(len(sl), len(ITEMS))
        for i, v in enumerate(ITEMS):
            self.assertTrue(same(sl[i], v), (i, sl[i], v))
        self.assertTrue(math.isnan(self.slist([float('nan')])[0]))
        peer = _sealshm.SList(name=sl.segment.name)
        self.assertTrue(all(same(a, b) for a, b in zip(peer, ITEMS)))
        self.assertEqual(list(peer), list(sl))
        peer.close()

    def test_bool_before_int(self):
        sl = self.slist([True, 1, False, 0])
        self.assertEqual([type(v) for v in sl], [bool, int, bool, int])
        sl[1] = True
        sl[0] = 1
        self.assertIs(sl[1], True)
        self.assertIs(type(sl[0]), int)
        self.assertEqual(sl.format, 'qxxxxxxx?xxxxxxx?q')

    def test_format_as_cpython(self):
        sl = self.slist(['howdy', b'HoWdY', -273.154, 100, None, True, 42])
        self.assertEqual(sl.format, '8s8sdqxxxxxx?xxxxxxxx?q')

    def test_empty(self):
        for sl in (self.slist(), self.slist([]), self.slist(())):
            self.assertEqual(len(sl), 0)
            self.assertEqual(list(sl), [])
            self.assertEqual(sl.format, '')
            self.assertEqual(sl.segment.size, 16)

    def test_iterables(self):
        self.assertEqual(list(self.slist(range(5))), [0, 1, 2, 3, 4])
        self.assertEqual(list(self.slist(x for x in 'ab')), ['a', 'b'])
        self.assertEqual(list(self.slist('xy')), ['x', 'y'])
        with self.assertRaisesRegex(TypeError, "'int' object is not iterable"):
            _sealshm.SList(5)

    def test_trailing_nuls_dropped_as_cpython(self):
        sl = self.slist(['ab\0\0', b'cd\0', b'\0'])
        self.assertEqual(list(sl), ['ab', b'cd', b''])

    def test_get_index_rules(self):
        sl = self.slist([10, 20, 30])
        self.assertEqual((sl[0], sl[-1], sl[-3]), (10, 30, 10))
        for i in (3, -4, 2**63, -2**63, 10**30, -10**30):
            with self.assertRaisesRegex(IndexError, '^index out of range$'):
                sl[i]
            with self.assertRaisesRegex(IndexError, '^assignment index out of range$'):
                sl[i] = 1
        with self.assertRaisesRegex(TypeError, 'indices must be integers, not str'):
            sl['0']
        with self.assertRaises(TypeError):
            sl[0:1]
        with self.assertRaises(TypeError):
            sl[1.0] = 2

        class Idx:
            def __index__(self):
                return 1
        self.assertEqual(sl[Idx()], 20)
        with self.assertRaisesRegex(TypeError, 'support item deletion'):
            del sl[0]

    def test_set_changes_format_as_cpython(self):
        sl = self.slist([1, 'abcdefgh', b'xy'])
        self.assertEqual(sl.format, 'q16s8s')
        sl[0] = 'x' * 8
        self.assertEqual((sl[0], sl.format), ('x' * 8, '8s16s8s'))
        sl[1] = 5
        self.assertEqual(sl.format, '8sq8s')
        sl[1] = 'y' * 16
        self.assertEqual((sl[1], sl.format), ('y' * 16, '8s16s8s'))
        sl[2] = 'str now'
        self.assertEqual((sl[2], sl.format), ('str now', '8s16s8s'))
        sl[2] = None
        self.assertEqual((sl[2], sl.format), (None, '8s16sxxxxxx?x'))
        sl[0] = 2.25
        self.assertEqual((sl[0], sl.format), (2.25, 'd16sxxxxxx?x'))

    def test_too_long_changes_nothing(self):
        sl = self.slist(['abc', 7])
        fmt = sl.format
        for v in ('x' * 9, b'y' * 9, 'é' * 5):
            with self.assertRaisesRegex(ValueError, '^bytes/str item exceeds available storage$'):
                sl[0] = v
            with self.assertRaisesRegex(ValueError, 'exceeds available storage'):
                sl[1] = v
        self.assertEqual((sl[0], sl[1], sl.format), ('abc', 7, fmt))
        sl[0] = 'é' * 4            # 8 UTF-8 bytes: fits
        self.assertEqual(sl[0], 'éééé')

    def test_int_range_is_struct_error(self):
        sl = self.slist([0])
        for v in (2**63, -2**63 - 1, 10**100):
            with self.assertRaises(struct.error) as cm:
                sl[0] = v
            self.assertEqual(str(cm.exception), Q_MSG)
            with self.assertNothingLeft():
                with self.assertRaises(struct.error):
                    _sealshm.SList([1, v])
        self.assertEqual((sl[0], sl.format), (0, 'q'))

    def test_other_types_raise_what_cpython_raises(self):
        class MyInt(int):
            pass

        class MyStr(str):
            pass

        class MyFloat(float):
            pass
        sl = self.slist([0, 'abcd'])
        with self.assertNothingLeft():
            for v in ([1], {}, (), 1j, bytearray(b'x'), MyInt(1), MyFloat(1), MyStr('a'),
                      object()):
                with self.subTest(v=v):
                    with self.assertRaises(KeyError) as cm:
                        _sealshm.SList([1, v])
                    self.assertIs(cm.exception.args[0], type(v))
        for v in ([1], 1j, bytearray(b'x'), MyInt(1), MyFloat(1)):
            with self.assertRaises(KeyError) as cm:
                sl[0] = v
            self.assertIs(cm.exception.args[0], type(v))
        # __setitem__ takes str and bytes subclasses (isinstance()).
        sl[1] = MyStr('zz')
        self.assertEqual((sl[1], type(sl[1])), ('zz', str))
        with self.assertRaises(UnicodeEncodeError):
            sl[1] = '\udc80'
        with self.assertRaises(UnicodeEncodeError):
            _sealshm.SList(['\udc80'])
        self.assertEqual(sl.format, 'q8s')

    def test_item_too_big(self):
        with self.assertNothingLeft():
            with self.assertRaisesRegex(ValueError, 'at most 9999991 bytes'):
                _sealshm.SList([b'x' * 10**7])
        sl = self.slist([b'x' * 9999991])
        self.assertEqual(len(sl[0]), 9999991)

    def test_count_index(self):
        from fractions import Fraction
        nan = float('nan')
        sl = self.slist([1, 1.0, True, 'a', b'a', None, 2**62, nan, 0, -0.0])
        self.assertEqual(sl.count(1), 3)
        self.assertEqual(sl.count(True), 3)
        self.assertEqual(sl.count(1.0), 3)
        self.assertEqual(sl.count(0), 2)
        self.assertEqual(sl.count('a'), 1)
        self.assertEqual(sl.count(b'a'), 1)
        self.assertEqual(sl.count(None), 1)
        self.assertEqual(sl.count(nan), 0)
        self.assertEqual(sl.count(Fraction(1)), 3)   # Python's ==
        self.assertEqual(sl.count(float(2**62)), 1)
        self.assertEqual(sl.count(2**100), 0)
        self.assertEqual(sl.count([1]), 0)
        self.assertEqual(sl.count('\udc80'), 0)
        self.assertEqual(sl.index('a'), 3)
        self.assertEqual(sl.index(None), 5)
        self.assertEqual(sl.index(Fraction(2**62)), 6)
        for v in (nan, 'b', 5, [1], 2**64):
            with self.assertRaises(ValueError) as cm:
                sl.index(v)
            self.assertEqual(str(cm.exception), f'{v!r} not in this container')
        self.assertIn('a', sl)
        self.assertNotIn('b', sl)

    def test_attach_and_errors(self):
        sl = self.slist([1, 'two'])
        peer = _sealshm.SList(name=sl.segment.name)
        peer[0] = 11
        self.assertEqual(sl[0], 11)
        peer.close()
        peer = _sealshm.SList(None, name='/' + sl.segment.name)
        self.assertEqual(peer[1], 'two')
        peer.close()
        with self.assertNothingLeft():
            with self.assertRaises(FileNotFoundError) as cm:
                _sealshm.SList(name='ext_nolist')
            self.assertEqual(cm.exception.filename, '/ext_nolist')
            with self.assertRaises(FileExistsError) as cm:
                _sealshm.SList([1], name=sl.segment.name)
            self.assertEqual(cm.exception.filename, '/' + sl.segment.name)
            with self.assertRaisesRegex(ValueError, 'invalid name'):
                _sealshm.SList(name='a b')
            with self.assertRaisesRegex(ValueError, 'embedded null'):
                _sealshm.SList(name='a\0')
            with self.assertRaises(TypeError):
                _sealshm.SList(name=b'x')
            with self.assertRaisesRegex(ValueError, 'RDONLY is a flag of attach'):
                _sealshm.SList([1], flags=_sealshm.RDONLY)

    def test_corrupt_list_refused(self):
        seg = self.segment(64)
        with memoryview(seg) as m:
            m[:8] = struct.pack('q', 10**6)
        with self.assertNothingLeft():
            with self.assertRaises(OSError) as cm:
                _sealshm.SList(name=seg.name)
            self.assertEqual(cm.exception.errno, errno.EBADMSG)

    def test_readonly_attach(self):
        sl = self.slist([1, 'x'])
        ro = _sealshm.SList(name=sl.segment.name, flags=_sealshm.RDONLY)
        self.addCleanup(ro.close)
        self.assertEqual(list(ro), [1, 'x'])
        with self.assertRaisesRegex(TypeError, 'cannot modify read-only memory'):
            ro[0] = 2
        with self.assertRaises(IndexError):
            ro[5] = 2           # CPython's order: the index first
        self.assertTrue(ro.segment.readonly)
        with memoryview(ro.segment) as m:
            self.assertTrue(m.readonly)
        sl[0] = 3
        self.assertEqual(ro[0], 3)

    def test_seal_write_through_segment(self):
        sl = self.slist([1])
        sl.segment.seal(_sealshm.SEAL_WRITE)
        with self.assertRaisesRegex(TypeError, 'read-only'):
            sl[0] = 2
        self.assertEqual(sl[0], 1)

    def test_segment_borrowed(self):
        sl = _sealshm.SList([1, 2])
        seg = sl.segment
        self.assertIs(sl.segment, seg)
        self.assertEqual(seg.size, 8 * 4 + 16 + 16 + 2)
        with memoryview(seg) as m:
            self.assertEqual(struct.unpack_from('q', m, 0)[0], 2)
            with self.assertRaisesRegex(BufferError, 'exported'):
                sl.close()
            with self.assertRaisesRegex(BufferError, 'exported'):
                seg.close()
            self.assertEqual(sl[1], 2)      # nothing changed
        seg.close()
        self.assertTrue(seg.closed)
        for op in (lambda: sl[0], lambda: len(sl), lambda: sl.format, lambda: sl.count(1),
                   lambda: sl.__setitem__(0, 1), lambda: list(sl)):
            with self.assertRaisesRegex(ValueError, '^ShareableList is closed$'):
                op()
        with self.assertRaisesRegex(ValueError, 'closed segment'):
            memoryview(seg)
        sl.close()                      # again: nothing
        self.assertIs(sl.segment, seg)  # still the same, closed
        seg.unlink()                    # after close
        with self.assertRaises(FileNotFoundError):
            seg.unlink()

    def test_segment_keeps_list_alive(self):
        fds = fd_count()
        sl = _sealshm.SList([1])
        ref = weakref.ref(sl.segment)
        seg = sl.segment
        name = seg.name
        del sl
        with memoryview(seg) as m:          # the mapping is still there
            self.assertEqual(struct.unpack_from('q', m, 0)[0], 1)
        del seg, m
        self.assertIsNone(ref())
        self.assertEqual(fd_count(), fds)
        _sealshm.unlink_name(name)

    def test_close_then_segment(self):
        sl = _sealshm.SList([1])
        sl.close()
        seg = sl.segment
        self.assertTrue(seg.closed)
        seg.unlink()
        self.assertNotIn(seg.name, self.names())

    def test_uninitialized_and_double_init(self):
        sl = _sealshm.SList.__new__(_sealshm.SList)
        self.assertIn('uninitialized', repr(sl))
        for op in (lambda: sl[0], lambda: len(sl), lambda: sl.segment):
            with self.assertRaisesRegex(ValueError, 'closed'):
                op()
        sl.__init__([1])
        self.addCleanup(self._drop_list, sl)
        with self.assertRaisesRegex(RuntimeError, 'only once'):
            sl.__init__([2])
        self.assertEqual(sl[0], 1)

    def test_subclass(self):
        class Sub(_sealshm.SList):
            def __new__(cls, *args, **kwargs):
                return super().__new__(cls)

            def __init__(self, sequence=None, *, name=None, extra='e'):
                super().__init__(sequence, name=name)
                self.extra = extra

            def __repr__(self):
                return f'Sub({list(self)})'
        fds = fd_count()
        s = Sub([1, 'a'], extra='x')
        name = s.segment.name
        self.assertEqual((s[0], s[1], s.extra, len(s)), (1, 'a', 'x', 2))
        s[0] = 5
        self.assertEqual(repr(s), "Sub([5, 'a'])")
        peer = Sub(name=name)
        self.assertEqual(peer[0], 5)
        peer.close()
        # A cycle through the instance's dict and its segment.
        s.seg = s.segment
        s.view = memoryview(s.seg)
        ref = weakref.ref(s)
        del s, peer
        gc.collect()
        self.assertIsNone(ref())
        self.assertEqual(fd_count(), fds)
        _sealshm.unlink_name(name)

    def test_refcounts_and_memory_flat(self):
        sl = self.slist([0, 0.0, 'abcdefg', b'abcdefg', None, True])
        s, b, f = 'x' + str(len(sl)), b'y' * 3, 1.5
        rc = (sys.getrefcount(s), sys.getrefcount(b), sys.getrefcount(f))

        def statm():
            with open('/proc/self/statm') as fp:
                return int(fp.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

        def loop(n):
            for i in range(n):
                sl[0] = i
                sl[1] = f
                sl[2] = s
                sl[3] = b
                sl[4] = None
                sl[5] = True
                sl[0]
                sl[1]
                sl[2]
                sl[3]
                sl[4]
                sl[5]
        loop(100000)
        gc.collect()
        before = statm()
        loop(1000000 // 6)
        gc.collect()
        # valgrind holds freed blocks back (--freelist-vol): no RSS check.
        if 'vgpreload' not in os.environ.get('LD_PRELOAD', ''):
            self.assertLess(statm() - before, 1 << 20)
        self.assertEqual((sys.getrefcount(s), sys.getrefcount(b), sys.getrefcount(f)), rc)
        self.assertEqual(list(sl), [1000000 // 6 - 1, 1.5, s, b'yyy', None, True])

    def test_nothing_left_after_errors(self):
        sl = self.slist([1])
        with self.assertNothingLeft():
            for _ in range(30):
                for call in (lambda: _sealshm.SList([1], name=sl.segment.name),
                             lambda: _sealshm.SList(name='ext_nolist'),
                             lambda: _sealshm.SList([[]]),
                             lambda: _sealshm.SList([2**64])):
                    with self.assertRaises((OSError, KeyError, struct.error)):
                        call()
                x = _sealshm.SList(['a', 1])
                y = _sealshm.SList(name=x.segment.name)
                y.close()
                x.segment.unlink()
                x.close()

    def test_fork(self):
        sl = self.slist([1, 'abc'])

        def in_child():
            assert sl[0] == 1
            sl[0] = 2
            sl[1] = 'xyz'
            peer = _sealshm.SList(name=sl.segment.name)
            assert peer[1] == 'xyz'
            peer.close()
        self.assertEqual(child(in_child), 0)
        self.assertEqual(list(sl), [2, 'xyz'])

    def test_docs(self):
        self.assertTrue(_sealshm.SList.__doc__)
        for name in ('count', 'index', 'close', 'format', 'segment'):
            self.assertTrue(getattr(_sealshm.SList, name).__doc__, name)


@unittest.skipIf(sys.version_info < (3, 9),
                 "CPython 3.8's ShareableList has another layout (sealshm_slist_create(3))")
class CPythonInteropTest(TrackerdTestCase):
    """Both ways with CPython's own ShareableList, over /dev/shm."""

    def setUp(self):
        from multiprocessing import shared_memory
        self.sm = shared_memory

    def _forget(self, cp):
        # Before 3.13 attaching registered the name with the resource
        # tracker too; unlink() unregisters it.
        cp.shm.close()
        cp.shm.unlink()

    def test_cpython_writes_we_read_and_write(self):
        items = [1, -5, 2.5, True, None, 'howdy', b'HoWdY', 'abc', b'']
        cp = self.sm.ShareableList(items, name='ext_from_cpython')
        try:
            sl = _sealshm.SList(name='ext_from_cpython', flags=_sealshm.POSIX)
            self.assertEqual(list(sl), items)
            self.assertEqual(sl.format, cp.format)
            sl[0] = 2**40
            sl[1] = 'str'
            sl[2] = None
            sl[3] = 7.25
            sl[5] = b'bytes'
            sl[7] = False
            self.assertEqual(list(cp), list(sl))
            self.assertEqual(cp.format, sl.format)
            cp[4] = 'from py'
            self.assertEqual(sl[4], 'from py')
            self.assertEqual(sl.count(None), cp.count(None))
            sl.close()
        finally:
            self._forget(cp)

    def test_we_write_cpython_reads(self):
        items = [1, -5, 2.5, True, None, 'howdy', b'HoWdY', 'héllo', b'\x00\xff']
        sl = _sealshm.SList(items, name='ext_to_cpython', flags=_sealshm.POSIX)
        self.assertTrue(os.path.exists('/dev/shm/ext_to_cpython'))
        cp = self.sm.ShareableList(name='ext_to_cpython')
        try:
            self.assertEqual(list(cp), items)
            self.assertEqual(cp.format, sl.format)
            cp[0] = 'x' * 8
            cp[8] = None
            self.assertEqual(list(sl), list(cp))
            self.assertEqual(sl.format, cp.format)
        finally:
            self._forget(cp)
        sl.close()
        with self.assertRaises(FileNotFoundError):
            sl.segment.unlink()


if __name__ == '__main__':
    unittest.main()
