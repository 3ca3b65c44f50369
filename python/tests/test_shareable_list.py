# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm.shared_memory.ShareableList against CPython's (the cases of
CPython's test_shared_memory_ShareableList_basics and _pickling), its
bytes shared with stock CPython, and CPython's bugs that stay fixed."""

import errno
import os
import pickle
import struct
import sys
import unittest

from sealshm import shared_memory

from _support import exists, run_python, unique

HOWDY = ['howdy', b'HoWdY', -273.154, 100, None, True, 42]


class ShareableListBasics(unittest.TestCase):
    def setUp(self):
        self.lists = []

    def tearDown(self):
        for sl in self.lists:
            try:
                sl.shm.unlink()
            except FileNotFoundError:
                pass
            sl.shm.close()

    def make(self, *args, **kwargs):
        sl = shared_memory.ShareableList(*args, **kwargs)
        self.lists.append(sl)
        return sl

    def test_cpythons_basics(self):
        sl = self.make(HOWDY)
        self.assertIn(sl.shm.name, repr(sl))
        self.assertIn('ShareableList(', repr(sl))
        self.assertEqual(sl.format, '8s8sdqxxxxxx?xxxxxxxx?q')
        self.assertEqual(len(sl), 7)
        self.assertEqual(list(sl), HOWDY)
        self.assertEqual(sl.count('howdy'), 1)
        self.assertEqual(sl.count(b'HoWdY'), 1)
        self.assertEqual(sl.count(42), 1)
        self.assertEqual(sl.index(42), 6)
        self.assertEqual(sl.index(None), 4)
        with self.assertRaisesRegex(ValueError, 'not in this container'):
            sl.index('100')
        sl[3] = 42
        self.assertEqual(sl.count(42), 2)
        self.assertEqual(sl.index(42), 3)
        sl[2] = 'dry ice'
        self.assertEqual(sl[2], 'dry ice')
        self.assertEqual(sl.format, '8s8s8sqxxxxxx?xxxxxxxx?q')
        with self.assertRaisesRegex(ValueError, 'exceeds available storage'):
            sl[0] = 'encyclopedia'
        self.assertEqual(sl[0], 'howdy')
        sl[4] = -273.154
        self.assertEqual(sl[4], -273.154)
        self.assertEqual(sl[-1], 42)
        with self.assertRaises(IndexError):
            sl[7]
        with self.assertRaises(IndexError):
            sl[7] = 2
        with self.assertRaises(IndexError):
            sl[-8]      # CPython reads garbage here; sealshm refuses
        with self.assertRaises(IndexError):
            sl[-8] = 0

    def test_attach_by_name_sees_the_same_list(self):
        sl = self.make(range(10))
        other = shared_memory.ShareableList(name=sl.shm.name)
        self.assertEqual(list(other), list(range(10)))
        other[3] = 'three'
        self.assertEqual(sl[3], 'three')
        other.shm.close()

    def test_empty_list(self):
        sl = self.make()
        self.assertEqual(len(sl), 0)
        self.assertEqual(sl.format, '')
        self.assertEqual(sl.shm.size, 16)

    def test_strings_are_sized_by_utf8_bytes(self):
        # CPython sizes a str slot by characters and then cuts multi-byte
        # text; sealshm by its UTF-8 bytes.
        sl = self.make(['\u00e9' * 7, b'a\x00\x00'])
        self.assertEqual(sl[0], '\u00e9' * 7)          # 14 bytes: a 16-byte slot
        self.assertEqual(sl.format[:3], '16s')
        # CPython's reading rule, kept for its bytes: trailing NULs are
        # padding, so a value's own trailing NULs do not come back.
        self.assertEqual(sl[1], b'a')
        sl[0] = '\u00e9' * 8                            # 16 bytes: fits exactly
        self.assertEqual(sl[0], '\u00e9' * 8)
        with self.assertRaisesRegex(ValueError, 'exceeds available storage'):
            sl[0] = '\u00e9' * 9
        self.assertEqual(sl[0], '\u00e9' * 8)

    def test_ints_are_64_bit(self):
        sl = self.make([0])
        sl[0] = 2 ** 63 - 1
        self.assertEqual(sl[0], 2 ** 63 - 1)
        sl[0] = -2 ** 63
        self.assertEqual(sl[0], -2 ** 63)
        with self.assertRaises(struct.error):
            sl[0] = 2 ** 63
        with self.assertRaises(struct.error):
            self.make([2 ** 64])
        self.assertEqual(sl[0], -2 ** 63)

    def test_types_change_format_as_cpython(self):
        sl = self.make([1, 'abc', None, True, 2.5, b'xy'])
        sl[0] = 'str'                 # an 8-byte slot takes a short str
        sl[1] = 7                     # a str slot takes an int
        sl[2] = False
        sl[3] = None
        self.assertEqual(list(sl), ['str', 7, False, None, 2.5, b'xy'])

    def test_unsupported_items_raise_as_cpython(self):
        with self.assertRaises(KeyError):
            shared_memory.ShareableList([object()])
        sl = self.make([1])
        with self.assertRaises((TypeError, KeyError, struct.error)):
            sl[0] = [1, 2]
        self.assertEqual(sl[0], 1)

    def test_pickle_by_name_size_independent_of_length(self):
        small = self.make([1])
        big = self.make(list(range(1000)))
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            ps = pickle.dumps(small, protocol=proto)
            pb = pickle.dumps(big, protocol=proto)
            self.assertEqual(len(ps), len(pb))
            other = pickle.loads(pb)
            self.assertEqual(other[999], 999)
            other[0] = -1
            self.assertEqual(big[0], -1)
            other.shm.close()

    def test_closed_list_raises_instead_of_crashing(self):
        sl = shared_memory.ShareableList([1, 2])
        sl.shm.unlink()
        sl.shm.close()
        with self.assertRaises(ValueError):
            sl[0]
        with self.assertRaises(ValueError):
            sl[0] = 1
        with self.assertRaises(ValueError):
            len(sl)

    def test_read_only_attach_refuses_writes(self):
        sl = self.make([1, 2])
        ro = shared_memory.ShareableList(name=sl.shm.name, read_only=True)
        self.assertEqual(ro[1], 2)
        with self.assertRaisesRegex(TypeError, 'read-only'):
            ro[0] = 5
        self.assertEqual(sl[0], 1)
        ro.shm.close()

    def test_build_ten_thousand_ints(self):
        sl = self.make(range(10_000))
        self.assertEqual(len(sl), 10_000)
        self.assertEqual(sl[9_999], 9_999)
        self.assertEqual(sum(sl), sum(range(10_000)))

    def test_bytes_shared_with_stock_cpython(self):
        if sys.version_info < (3, 9):
            self.skipTest('CPython 3.8 has no ShareableList format fixes')
        name = unique('sl_posix')
        sl = self.make(HOWDY, name=name, posix=True)
        r = run_python('import sys\n'
                       'from multiprocessing import shared_memory, resource_tracker\n'
                       'sl = shared_memory.ShareableList(name=sys.argv[1])\n'
                       'resource_tracker.unregister(sl.shm._name, "shared_memory")\n'
                       'print(repr(list(sl)), sl.format)\n'
                       'sl[2] = -78.5\n'
                       'sl.shm.close()', name)
        self.assertEqual(r.stdout.split(']')[0] + ']', repr(HOWDY))
        self.assertIn(sl.format, r.stdout)
        self.assertEqual(sl[2], -78.5)
        self.assertTrue(os.path.exists('/dev/shm/' + name))

    def test_a_list_from_stock_cpython_is_read(self):
        name = unique('from_cpython')
        run_python('import sys\n'
                   'from multiprocessing import shared_memory, resource_tracker\n'
                   'sl = shared_memory.ShareableList(["abc", 1.5, None, 7], name=sys.argv[1])\n'
                   'resource_tracker.unregister(sl.shm._name, "shared_memory")\n'
                   'sl.shm.close()', name)
        if sys.version_info < (3, 9):
            # CPython 3.8 wrote an older layout (item sizes where 3.9 and
            # later write offsets): refused as malformed, never misread.
            with self.assertRaises(OSError) as cm:
                self.make(name=name, posix=True)
            self.assertEqual(cm.exception.errno, errno.EBADMSG)
            os.unlink('/dev/shm/' + name)
            return
        sl = self.make(name=name, posix=True)
        self.assertEqual(list(sl), ['abc', 1.5, None, 7])
        self.assertFalse(exists(name))     # /dev/shm, not trackerd


if __name__ == '__main__':
    unittest.main()
