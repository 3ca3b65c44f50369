# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm.shared_memory.SharedMemory against CPython's behaviour (the
cases of CPython's own test_shared_memory_basics and friends), and what
sealshm adds."""

import ctypes
import gc
import os
import pickle
import unittest

from sealshm import shared_memory

from _support import exists, have_numpy, run_python, unique

try:
    from multiprocessing import shared_memory as cpython_shared_memory
except ImportError:  # pragma: no cover
    cpython_shared_memory = None


def fds():
    return len(os.listdir('/proc/self/fd'))


class SharedMemoryBasics(unittest.TestCase):
    def setUp(self):
        self.to_unlink = []

    def tearDown(self):
        for shm in self.to_unlink:
            try:
                shm.unlink()
            except FileNotFoundError:
                pass
            shm.close()

    def make(self, *args, **kwargs):
        shm = shared_memory.SharedMemory(*args, **kwargs)
        self.to_unlink.append(shm)
        return shm

    def test_create_named_attach_and_share_bytes(self):
        name = unique('basic')
        shm = self.make(name, create=True, size=512)
        self.assertEqual(shm.name, name)
        self.assertEqual(shm.size, 512)
        self.assertEqual(len(shm.buf), 512)
        shm.buf[:5] = b'howdy'
        other = shared_memory.SharedMemory(name)
        self.assertEqual(other.size, 512)
        self.assertEqual(bytes(other.buf[:5]), b'howdy')
        other.buf[5] = ord('!')
        self.assertEqual(shm.buf[5], ord('!'))
        other.close()
        self.assertEqual(repr(shm), f"SharedMemory('{name}', size=512)")

    def test_size_is_exact(self):
        # CPython reports the page-rounded size on some systems; sealshm
        # always reports what was asked for.
        for size in (1, 4095, 4096, 4097, 10_000):
            shm = self.make(create=True, size=size)
            self.assertEqual(shm.size, size)
            self.assertEqual(len(shm.buf), size)
            again = shared_memory.SharedMemory(shm.name)
            self.assertEqual(again.size, size)
            again.close()

    def test_generated_names(self):
        names = set()
        for _ in range(8):
            shm = self.make(create=True, size=16)
            self.assertTrue(shm.name.startswith('psm_'), shm.name)
            self.assertLessEqual(len(shm.name), 14)   # CPython's _SHM_SAFE_NAME_LENGTH
            names.add(shm.name)
        self.assertEqual(len(names), 8)

    def test_leading_slash_is_dropped(self):
        name = unique('slash')
        shm = self.make('/' + name, create=True, size=8)
        self.assertEqual(shm.name, name)
        other = shared_memory.SharedMemory('/' + name)
        self.assertEqual(other.name, name)
        other.close()

    def test_create_existing_is_file_exists_error(self):
        name = unique('exists')
        self.make(name, create=True, size=8)
        with self.assertRaises(FileExistsError) as cm:
            shared_memory.SharedMemory(name, create=True, size=8)
        self.assertIn(name, str(cm.exception))

    def test_attach_missing_is_file_not_found_error(self):
        name = unique('missing')
        with self.assertRaises(FileNotFoundError) as cm:
            shared_memory.SharedMemory(name)
        self.assertIn(name, str(cm.exception))

    def test_bad_sizes_are_value_errors_with_cpythons_messages(self):
        with self.assertRaisesRegex(ValueError, "'size' must be a positive integer"):
            shared_memory.SharedMemory(create=True, size=-1)
        with self.assertRaisesRegex(ValueError,
                                    "'size' must be a positive number different from zero"):
            shared_memory.SharedMemory(create=True, size=0)
        with self.assertRaisesRegex(ValueError, "'name' can only be None if create=True"):
            shared_memory.SharedMemory()
        with self.assertRaises((ValueError, OverflowError)):
            shared_memory.SharedMemory(create=True, size=1 << 64)
        with self.assertRaises(TypeError):
            shared_memory.SharedMemory(create=True, size='8')

    def test_bad_names_are_value_errors_saying_why(self):
        cases = {
            'a b': 'space',
            'x' * 256: '255 bytes',
            'a/b': "'/'",
            '..': '"."',
            'rlo\u202efdp': r'U\+202E',
            'nul\x00': 'null',
        }
        for name, why in cases.items():
            with self.subTest(name=name):
                with self.assertRaisesRegex(ValueError, why):
                    shared_memory.SharedMemory(name, create=True, size=8)
        with self.assertRaises(TypeError):
            shared_memory.SharedMemory(b'bytes', create=True, size=8)

    def test_close_is_idempotent_and_buf_goes(self):
        shm = self.make(create=True, size=8)
        shm.close()
        shm.close()
        self.assertIsNone(shm.buf)

    def test_close_while_exported_is_buffer_error(self):
        shm = self.make(create=True, size=64)
        view = shm.buf[4:8]
        with self.assertRaises(BufferError):
            shm.close()
        view.release()
        shm.close()

    def test_unlink_keeps_mappings_and_removes_the_name(self):
        shm = self.make(create=True, size=64)
        other = shared_memory.SharedMemory(shm.name)
        shm.buf[0] = 42
        shm.unlink()
        self.assertFalse(exists(shm.name))
        self.assertEqual(other.buf[0], 42)
        other.close()
        with self.assertRaises(FileNotFoundError):
            shm.unlink()

    def test_unlink_removes_only_this_segment(self):
        # CPython's unlink() removes whatever the name names now; sealshm's
        # removes only the segment this object maps.
        name = unique('renewed')
        old = self.make(name, create=True, size=8)
        shared_memory.SharedMemory(name).unlink()
        new = self.make(name, create=True, size=16)
        with self.assertRaises(FileNotFoundError):
            old.unlink()
        self.assertEqual(shared_memory.stat(name).size, 16)
        # The same once closed (CPython's order: close, then unlink).
        old.close()
        with self.assertRaises(FileNotFoundError):
            old.unlink()
        self.assertEqual(shared_memory.stat(name).size, 16)
        new.close()
        new.unlink()
        with self.assertRaises(FileNotFoundError):
            shared_memory.stat(name)

    def test_pickle_by_name_with_every_protocol(self):
        shm = self.make(create=True, size=32)
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            shm.buf[:4] = b'pick'
            data = pickle.dumps(shm, protocol=proto)
            self.assertIn(shm.name.encode(), data)
            other = pickle.loads(data)
            self.assertEqual(other.name, shm.name)
            self.assertEqual(other.size, 32)
            self.assertEqual(bytes(other.buf[:4]), b'pick')
            other.buf[0] = ord('P')
            self.assertEqual(shm.buf[0], ord('P'))
            other.close()
        data = pickle.dumps(shm)
        shm.unlink()
        with self.assertRaises(FileNotFoundError):
            pickle.loads(data)

    def test_read_only_attach(self):
        shm = self.make(create=True, size=16)
        ro = shared_memory.SharedMemory(shm.name, read_only=True)
        self.assertTrue(ro.buf.readonly)
        with self.assertRaises(TypeError):
            ro.buf[0] = 1
        shm.buf[0] = 7
        self.assertEqual(ro.buf[0], 7)
        ro.close()
        with self.assertRaises(ValueError):
            shared_memory.SharedMemory(create=True, size=8, read_only=True)

    def test_seal_refuses_new_writers(self):
        shm = self.make(create=True, size=16)
        shm.buf[0] = 1
        shm.seal(future=True)
        shm.buf[1] = 2           # the creator's mapping stays writable
        with self.assertRaises(PermissionError):
            shared_memory.SharedMemory(shm.name)
        ro = shared_memory.SharedMemory(shm.name, read_only=True)
        self.assertEqual(bytes(ro.buf[:2]), b'\x01\x02')
        ro.close()
        self.assertIn('future_write', shared_memory.stat(shm.name).seals)

    def test_seal_for_good_makes_buf_read_only(self):
        shm = self.make(create=True, size=16)
        shm.buf[0] = 3
        view = shm.buf[:4]
        with self.assertRaises(BufferError):
            shm.seal()            # a writable view of it still lives
        shm.buf[1] = 4            # nothing changed
        view.release()
        shm.seal()
        self.assertTrue(shm.buf.readonly)
        self.assertEqual(bytes(shm.buf[:2]), b'\x03\x04')
        with self.assertRaises(TypeError):
            shm.buf[0] = 5
        self.assertIn('write', shared_memory.stat(shm.name).seals.split(','))

    def test_fileno_is_the_memfd(self):
        shm = self.make(create=True, size=16)
        fd = shm.fileno()
        self.assertTrue(os.readlink(f'/proc/self/fd/{fd}').startswith('/memfd:sealshm:'))
        self.assertEqual(os.fstat(fd).st_size, 16)

    def test_stat_and_segments_report_the_name(self):
        name = unique('listed')
        shm = self.make(name, create=True, size=100, mode=0o640)
        info = shared_memory.stat(name)
        self.assertEqual(info.size, 100)
        self.assertEqual(info.mode, 0o640)
        self.assertEqual(info.uid, os.geteuid())
        self.assertEqual(info.lifetime, 'first')
        self.assertIn('shrink', info.seals)
        self.assertIn(name, [i.name for i in shared_memory.segments()])
        shm.unlink()
        self.assertNotIn(name, [i.name for i in shared_memory.segments()])

    def test_reserve_allocates_now_or_is_memory_error(self):
        shm = self.make(create=True, size=1 << 20, reserve=True, track=False)
        self.assertEqual(shared_memory.stat(shm.name).resident, 1 << 20)
        name = unique('huge')
        with self.assertRaises(MemoryError):
            shared_memory.SharedMemory(name, create=True, size=1 << 40, reserve=True)
        self.assertFalse(exists(name))

    def test_failed_calls_leave_nothing_behind(self):
        before = fds()
        name = unique('nothing')
        for _ in range(50):
            with self.assertRaises(FileNotFoundError):
                shared_memory.SharedMemory(name)
            with self.assertRaises(ValueError):
                shared_memory.SharedMemory('bad name', create=True, size=8)
        shm = self.make(name, create=True, size=8)
        for _ in range(50):
            with self.assertRaises(FileExistsError):
                shared_memory.SharedMemory(name, create=True, size=8)
        self.assertEqual(fds(), before + 1)
        shm.close()
        self.assertEqual(fds(), before)

    def test_no_leak_after_many_objects(self):
        before = fds()
        for _ in range(200):
            shm = shared_memory.SharedMemory(create=True, size=64, track=False)
            shm.unlink()
            shm.close()
        gc.collect()
        self.assertEqual(fds(), before)

    @unittest.skipUnless(have_numpy(), 'numpy is not installed for this Python')
    def test_numpy_array_over_buf_is_zero_copy(self):
        import numpy as np
        a = np.array([1, 1, 2, 3, 5, 8], dtype=np.int64)
        shm = self.make(create=True, size=a.nbytes)
        b = np.ndarray(a.shape, dtype=a.dtype, buffer=shm.buf)
        b[:] = a[:]
        start = ctypes.addressof(ctypes.c_char.from_buffer(shm.buf))
        data = b.__array_interface__['data'][0]
        self.assertGreaterEqual(data, start)
        self.assertLess(data, start + shm.size)
        other = shared_memory.SharedMemory(shm.name)
        c = np.ndarray(a.shape, dtype=a.dtype, buffer=other.buf)
        self.assertEqual(c.tolist(), [1, 1, 2, 3, 5, 8])
        c[-1] = 888
        self.assertEqual(int(b[-1]), 888)
        del b, c
        other.close()

    @unittest.skipIf(cpython_shared_memory is None, 'no multiprocessing.shared_memory')
    def test_posix_segment_is_shared_with_stock_cpython(self):
        name = unique('posix')
        shm = self.make(name, create=True, size=32, posix=True)
        shm.buf[:5] = b'stock'
        theirs = cpython_shared_memory.SharedMemory(name, track=False) \
            if 'track' in cpython_shared_memory.SharedMemory.__init__.__code__.co_varnames \
            else None
        if theirs is None:
            r = run_python('import sys\n'
                           'from multiprocessing import shared_memory, resource_tracker\n'
                           's = shared_memory.SharedMemory(sys.argv[1])\n'
                           'resource_tracker.unregister(s._name, "shared_memory")\n'
                           'print(bytes(s.buf[:5]).decode()); s.close()', name)
            self.assertEqual(r.stdout.strip(), 'stock')
        else:
            self.assertEqual(bytes(theirs.buf[:5]), b'stock')
            theirs.close()
        self.assertTrue(os.path.exists('/dev/shm/' + name))
        shm.unlink()
        self.to_unlink.remove(shm)
        shm.close()
        self.assertFalse(os.path.exists('/dev/shm/' + name))


if __name__ == '__main__':
    unittest.main()
