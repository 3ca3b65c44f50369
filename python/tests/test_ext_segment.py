# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm._sealshm.Segment: the contract of _sealshm.pyi, error paths,
the buffer protocol's export rules, the GIL, leaks, fork."""

import ctypes
import errno
import gc
import os
import stat
import threading
import time
import unittest
import weakref

from sealshm import _sealshm
from ext_support import (TIMEOUT, HoldingProxy, SilentServer, TrackerdTestCase, child,
                         fd_count, run_thread, wait_for)


class SegmentTest(TrackerdTestCase):

    def test_create_generated_name(self):
        seg = self.segment(100)
        self.assertRegex(seg.name, r'^psm_[0-9a-f]{8}$')
        self.assertEqual(seg.size, 100)
        self.assertFalse(seg.readonly)
        self.assertFalse(seg.closed)
        self.assertEqual(seg.exports, 0)
        self.assertIsInstance(seg.fileno(), int)
        self.assertIn(seg.name, self.names())
        self.assertIn(seg.name, repr(seg))

    def test_create_attach_share_bytes(self):
        seg = self.segment(10)
        with memoryview(seg) as m:
            self.assertEqual(bytes(m), bytes(10))       # zeroed
            m[:5] = b'hello'
        peer = _sealshm.Segment(seg.name, False)
        self.addCleanup(peer.close)
        self.assertEqual(peer.size, 10)
        self.assertEqual(bytes(memoryview(peer)[:5]), b'hello')

    def test_leading_slash(self):
        seg = _sealshm.Segment('/ext_slash', True, 8)
        self.addCleanup(self._drop, seg)
        self.assertEqual(seg.name, 'ext_slash')
        peer = _sealshm.Segment('/ext_slash', False)
        self.assertEqual(peer.name, 'ext_slash')
        peer.close()

    def test_attach_size_ignored(self):
        seg = self.segment(24)
        peer = _sealshm.Segment(seg.name, False, 4096)
        self.assertEqual(peer.size, 24)
        peer.close()

    def test_size_errors_as_cpython(self):
        with self.assertNothingLeft():
            with self.assertRaisesRegex(ValueError, r"^'size' must be a positive integer$"):
                _sealshm.Segment('ext_x', True, -1)
            with self.assertRaisesRegex(ValueError, r"^'size' must be a positive integer$"):
                _sealshm.Segment('ext_x', False, -1)
            with self.assertRaisesRegex(ValueError,
                                        r"^'size' must be a positive number different from zero$"):
                _sealshm.Segment('ext_x', True, 0)
            with self.assertRaisesRegex(ValueError, 'different from zero'):
                _sealshm.Segment('ext_x', True)
            for big in (2**63, 2**64, 10**30):
                with self.assertRaisesRegex(ValueError, 'too large'):
                    _sealshm.Segment('ext_x', True, big)
            with self.assertRaises(TypeError):
                _sealshm.Segment('ext_x', True, 1.5)
            with self.assertRaises(TypeError):
                _sealshm.Segment('ext_x', True, '10')

    def test_name_errors(self):
        with self.assertNothingLeft():
            with self.assertRaisesRegex(ValueError, r"^'name' can only be None if create=True$"):
                _sealshm.Segment(None, False)
            with self.assertRaisesRegex(ValueError, '^embedded null character$'):
                _sealshm.Segment('a\0b', True, 1)
            with self.assertRaisesRegex(ValueError, r"^invalid name 'a b': has a space"):
                _sealshm.Segment('a b', True, 1)
            with self.assertRaisesRegex(ValueError, r"^invalid name '': is empty$"):
                _sealshm.Segment('', True, 1)
            with self.assertRaisesRegex(ValueError, 'longer than 255 bytes'):
                _sealshm.Segment('x' * 256, True, 1)
            with self.assertRaisesRegex(ValueError, "after its first byte"):
                _sealshm.Segment('a/b', False)
            with self.assertRaises(TypeError):
                _sealshm.Segment(b'ext_x', True, 1)
            with self.assertRaises(TypeError):
                _sealshm.Segment(5, True, 1)
            with self.assertRaises(UnicodeEncodeError):
                _sealshm.Segment('ext_\udc80', True, 1)

    def test_flag_and_mode_errors(self):
        with self.assertNothingLeft():
            with self.assertRaisesRegex(ValueError, 'RDONLY is a flag of attach'):
                _sealshm.Segment('ext_x', True, 1, flags=_sealshm.RDONLY)
            with self.assertRaisesRegex(ValueError, 'LIFETIME_LAST and RESERVE'):
                _sealshm.Segment('ext_x', False, flags=_sealshm.RESERVE)
            with self.assertRaisesRegex(ValueError, 'unknown flags 0x100000'):
                _sealshm.Segment('ext_x', True, 1, flags=1 << 20)
            with self.assertRaisesRegex(ValueError, "'mode' must be at most 0o777, not 0o1000"):
                _sealshm.Segment('ext_x', True, 1, mode=0o1000)
            with self.assertRaises(OverflowError):
                _sealshm.Segment('ext_x', True, 1, flags=-1)
            with self.assertRaises(OverflowError):
                _sealshm.Segment('ext_x', True, 1, flags=2**32)
            with self.assertRaises(TypeError):
                _sealshm.Segment('ext_x', True, 1, flags='0')
            with self.assertRaises(TypeError):
                _sealshm.Segment('ext_x', True, 1, socket=5)
            with self.assertRaisesRegex(ValueError, 'null'):
                _sealshm.Segment('ext_x', True, 1, socket='/tmp/a\0b')

    def test_errno_errors_name_with_slash(self):
        seg = self.segment(8)
        with self.assertNothingLeft():
            with self.assertRaises(FileExistsError) as cm:
                _sealshm.Segment(seg.name, True, 8)
            self.assertEqual(cm.exception.errno, errno.EEXIST)
            self.assertEqual(cm.exception.filename, '/' + seg.name)
            self.assertEqual(cm.exception.strerror, os.strerror(errno.EEXIST))
            with self.assertRaises(FileExistsError) as cm:
                _sealshm.Segment('/' + seg.name, True, 8)
            self.assertEqual(cm.exception.filename, '/' + seg.name)
            with self.assertRaises(FileNotFoundError) as cm:
                _sealshm.Segment('ext_absent', False)
            self.assertEqual(cm.exception.filename, '/ext_absent')
            self.assertEqual(str(cm.exception),
                             "[Errno 2] No such file or directory: '/ext_absent'")

    def test_mode_refuses_other_users(self):
        if os.geteuid() != 0:
            self.skipTest('needs root to attach as another uid')
        seg = self.segment(8, mode=0o600)

        def as_nobody():
            os.setgid(65534)
            os.setuid(65534)
            try:
                _sealshm.Segment(seg.name, False)
            except PermissionError as e:
                assert e.filename == '/' + seg.name, e
            else:
                raise AssertionError('attached')
        self.assertEqual(child(as_nobody), 0)

    def test_exports_counted_and_close_refused(self):
        seg = self.segment(16)
        m1 = memoryview(seg)
        m2 = memoryview(seg)
        self.assertEqual(seg.exports, 2)
        with self.assertRaisesRegex(BufferError, '^cannot close exported pointers exist$'):
            seg.close()
        # Nothing changed: still open and usable.
        self.assertFalse(seg.closed)
        m1[0] = 7
        self.assertEqual(m2[0], 7)
        m1.release()
        self.assertEqual(seg.exports, 1)
        with self.assertRaises(BufferError):
            seg.close()
        m2.release()
        self.assertEqual(seg.exports, 0)
        seg.close()
        self.assertTrue(seg.closed)
        seg.close()                 # again: nothing
        with self.assertRaisesRegex(ValueError, '^operation on a closed segment$'):
            memoryview(seg)
        with self.assertRaisesRegex(ValueError, 'closed segment'):
            seg.fileno()
        self.assertEqual(seg.name, seg.name)     # kept
        self.assertEqual(seg.size, 16)

    def test_buffer_shape(self):
        seg = self.segment(33)
        with memoryview(seg) as m:
            self.assertEqual((m.nbytes, m.itemsize, m.format, m.ndim, m.readonly),
                             (33, 1, 'B', 1, False))
            self.assertTrue(m.c_contiguous)
        # A writable export, as ctypes asks for one.
        buf = (ctypes.c_char * 33).from_buffer(seg)
        buf[1] = b'x'
        self.assertEqual(seg.exports, 1)
        del buf
        gc.collect()
        self.assertEqual(seg.exports, 0)

    def test_readonly_attach(self):
        seg = self.segment(8)
        with memoryview(seg) as m:
            m[:3] = b'abc'
        ro = _sealshm.Segment(seg.name, False, flags=_sealshm.RDONLY)
        self.addCleanup(ro.close)
        self.assertTrue(ro.readonly)
        with memoryview(ro) as m:
            self.assertTrue(m.readonly)
            self.assertEqual(bytes(m[:3]), b'abc')
            with self.assertRaises(TypeError):
                m[0] = 1
        # A writable request: BufferError, which ctypes reports as TypeError.
        with self.assertRaises((BufferError, TypeError)):
            (ctypes.c_char * 8).from_buffer(ro)
        self.assertEqual(ro.exports, 0)
        fl = os.get_blocking(ro.fileno())  # a valid fd
        self.assertIsInstance(fl, bool)

    def test_unlink_open_and_closed(self):
        a = _sealshm.Segment('ext_unlink', True, 8)
        a.unlink()
        self.assertNotIn('ext_unlink', self.names())
        with self.assertRaises(FileNotFoundError) as cm:
            a.unlink()
        self.assertEqual(cm.exception.filename, '/ext_unlink')
        a.close()
        # close() first, unlink() after, as CPython users do.
        b = _sealshm.Segment('ext_unlink', True, 8)
        b.close()
        b.unlink()
        self.assertNotIn('ext_unlink', self.names())
        with self.assertRaises(FileNotFoundError):
            b.unlink()

    def test_unlink_spares_a_newer_segment(self):
        for close_first in (False, True):
            with self.subTest(close_first=close_first):
                old = _sealshm.Segment('ext_reused', True, 8)
                old.unlink()
                new = _sealshm.Segment('ext_reused', True, 8)
                if close_first:
                    old.close()
                with self.assertRaises(FileNotFoundError):
                    old.unlink()
                self.assertIn('ext_reused', self.names())
                new.unlink()
                old.close()
                new.close()

    def test_unlink_name(self):
        seg = self.segment(8)
        _sealshm.unlink_name(seg.name)
        self.assertNotIn(seg.name, self.names())
        with self.assertRaises(FileNotFoundError) as cm:
            _sealshm.unlink_name(seg.name)
        self.assertEqual(cm.exception.filename, '/' + seg.name)
        with self.assertRaisesRegex(ValueError, 'invalid name'):
            _sealshm.unlink_name('a b')
        with self.assertRaisesRegex(ValueError, 'embedded null'):
            _sealshm.unlink_name('a\0')
        with self.assertRaises(TypeError):
            _sealshm.unlink_name(None)
        with self.assertRaisesRegex(ValueError, 'unknown flags'):
            _sealshm.unlink_name('ext_x', flags=1 << 30)

    def test_seal(self):
        seg = self.segment(8)
        with self.assertRaisesRegex(ValueError, 'invalid flags'):
            seg.seal(0)
        seg.seal(_sealshm.SEAL_FUTURE_WRITE)
        self.assertFalse(seg.readonly)
        with memoryview(seg) as m:
            m[0] = 1            # the creator's mapping still writes
            with self.assertRaisesRegex(BufferError, 'exported'):
                seg.seal(_sealshm.SEAL_WRITE)
        self.assertTrue(_sealshm.stat(seg.name)['seals'] & _sealshm.SEAL_FUTURE_WRITE)
        with self.assertRaises(PermissionError) as cm:
            _sealshm.Segment(seg.name, False)
        self.assertEqual(cm.exception.filename, '/' + seg.name)
        ro = _sealshm.Segment(seg.name, False, flags=_sealshm.RDONLY)
        with self.assertRaises(PermissionError):
            ro.seal(_sealshm.SEAL_WRITE)
        ro.close()

    def test_seal_write_refused_leaves_buffer_writable(self):
        seg = self.segment(8)
        peer = _sealshm.Segment(seg.name, False)      # another writable mapping
        with self.assertRaises(OSError) as cm:
            seg.seal(_sealshm.SEAL_WRITE)
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        self.assertFalse(seg.readonly)
        with memoryview(seg) as m:
            m[0] = 1
        sl = _sealshm.SList([1])
        self.addCleanup(sl.close)
        self.addCleanup(sl.segment.unlink)
        lpeer = _sealshm.SList(name=sl.segment.name)
        with self.assertRaises(OSError):
            sl.segment.seal(_sealshm.SEAL_WRITE)
        sl[0] = 2                                       # still writable
        lpeer.close()
        peer.close()
        seg.seal(_sealshm.SEAL_WRITE)
        self.assertTrue(seg.readonly)

    def test_seal_write_makes_buffer_readonly(self):
        seg = self.segment(8)
        seg.seal(_sealshm.SEAL_WRITE)
        self.assertTrue(seg.readonly)
        with memoryview(seg) as m:
            self.assertTrue(m.readonly)
        self.assertTrue(_sealshm.stat(seg.name)['seals'] & _sealshm.SEAL_WRITE)
        seg.close()
        with self.assertRaisesRegex(ValueError, 'closed segment'):
            seg.seal(_sealshm.SEAL_WRITE)

    def test_posix_segment_with_cpython(self):
        from multiprocessing import shared_memory
        seg = _sealshm.Segment('ext_posix', True, 16, flags=_sealshm.POSIX)
        self.addCleanup(self._drop, seg)
        self.assertTrue(os.path.exists('/dev/shm/ext_posix'))
        self.assertNotIn('ext_posix', self.names())
        with memoryview(seg) as m:
            m[:4] = b'sand'
        try:
            cp = shared_memory.SharedMemory('ext_posix', track=False)
        except TypeError:       # before 3.13: no track=
            cp = shared_memory.SharedMemory('ext_posix')
            from multiprocessing import resource_tracker
            resource_tracker.unregister('/ext_posix', 'shared_memory')
        self.assertEqual(bytes(cp.buf[:4]), b'sand')
        cp.buf[4:8] = b'wich'
        cp.close()
        with memoryview(seg) as m:
            self.assertEqual(bytes(m[:8]), b'sandwich')
        with self.assertRaises(FileExistsError) as cm:
            _sealshm.Segment('ext_posix', True, 16, flags=_sealshm.POSIX)
        self.assertEqual(cm.exception.filename, '/ext_posix')
        seg.close()
        seg.unlink()            # after close, by inode
        self.assertFalse(os.path.exists('/dev/shm/ext_posix'))
        with self.assertRaises(FileNotFoundError):
            seg.unlink()
        with self.assertRaises(FileNotFoundError) as cm:
            _sealshm.unlink_name('ext_posix', flags=_sealshm.POSIX)
        self.assertEqual(cm.exception.filename, '/ext_posix')

    def test_nothing_left_after_errors(self):
        seg = self.segment(8)
        with self.assertNothingLeft():
            for _ in range(50):
                for call in (lambda: _sealshm.Segment(seg.name, True, 8),
                             lambda: _sealshm.Segment('ext_absent', False),
                             lambda: _sealshm.Segment('ext_x', True, 0),
                             lambda: _sealshm.Segment('ext_x', True, 1, mode=0o7777),
                             lambda: _sealshm.Segment('ext_x', True, 1,
                                                      flags=_sealshm.POSIX |
                                                      _sealshm.LIFETIME_LAST)):
                    with self.assertRaises((OSError, ValueError)):
                        call()
            for _ in range(50):
                s = _sealshm.Segment(None, True, 4096)
                p = _sealshm.Segment(s.name, False)
                memoryview(p).release()
                p.close()
                s.unlink()
                s.close()
                s.close()

    def test_dealloc_closes(self):
        fds = fd_count()
        seg = _sealshm.Segment(None, True, 8)
        name = seg.name
        self.assertEqual(fd_count(), fds + 1)
        ref = weakref.ref(seg)
        del seg
        self.assertIsNone(ref())
        self.assertEqual(fd_count(), fds)
        _sealshm.unlink_name(name)

    def test_socket_argument(self):
        seg = _sealshm.Segment(None, True, 8, socket=self.trackerd.socket)
        self.assertIn(seg.name, self.names(socket=self.trackerd.socket))
        seg.close()
        seg.unlink()
        with self.assertRaises(OSError) as cm:
            _sealshm.Segment(None, True, 8, socket=self.trackerd.socket + '.absent')
        self.assertIn(cm.exception.errno, (errno.ENOENT, errno.ECONNREFUSED))

    def test_gil_released_while_waiting_for_trackerd(self):
        srv = SilentServer()
        self.addCleanup(srv.close)
        t, res = run_thread(lambda: _sealshm.Segment('ext_gil', False, socket=srv.path))
        srv.accept()
        # The call waits inside the library; this thread runs meanwhile.
        n = 0
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:
            n += 1
        self.assertTrue(t.is_alive())
        self.assertGreater(n, 1000)
        # Gone for good: the library may try a new connection once.
        srv.close()
        t.join(TIMEOUT)
        self.assertFalse(t.is_alive())
        self.assertIsInstance(res.get('error'), OSError)

    def test_close_waits_for_a_call_in_another_thread(self):
        proxy = HoldingProxy(self.trackerd.socket)
        self.addCleanup(proxy.close)
        seg = _sealshm.Segment(None, True, 8, socket=proxy.path)
        name = seg.name
        proxy.hold()
        tu, ru = run_thread(seg.unlink)
        self.assertTrue(proxy.holding.wait(TIMEOUT))
        # unlink() is inside the library with the handle, the GIL released.
        tc, rc = run_thread(seg.close)
        time.sleep(0.05)
        self.assertTrue(tc.is_alive(), 'close() freed the handle under unlink()')
        with self.assertRaisesRegex(ValueError, 'closed segment'):
            memoryview(seg)         # closing: no new export
        proxy.release()
        tu.join(TIMEOUT)
        tc.join(TIMEOUT)
        self.assertFalse(tu.is_alive() or tc.is_alive())
        self.assertEqual(ru, {'value': None})
        self.assertEqual(rc, {'value': None})
        self.assertTrue(seg.closed)
        self.assertNotIn(name, self.names())

    def test_fork_child_keeps_working(self):
        seg = self.segment(16)
        with memoryview(seg) as m:
            m[0] = 1

        def in_child():
            with memoryview(seg) as m:
                assert m[0] == 1
                m[1] = 2
            peer = _sealshm.Segment(seg.name, False)
            assert bytes(memoryview(peer)[:2]) == b'\x01\x02'
            peer.close()
            other = _sealshm.Segment(None, True, 8)
            other.unlink()
            other.close()
            seg.close()
        self.assertEqual(child(in_child), 0)
        with memoryview(seg) as m:
            self.assertEqual(m[1], 2)
        self.assertFalse(seg.closed)

    def test_cloexec(self):
        seg = self.segment(8)
        flags = __import__('fcntl').fcntl(seg.fileno(), __import__('fcntl').F_GETFD)
        self.assertTrue(flags & __import__('fcntl').FD_CLOEXEC)
        self.assertTrue(stat.S_ISREG(os.fstat(seg.fileno()).st_mode))

    def test_gc_of_a_cycle(self):
        # A Python object holding the segment it is referenced by.
        class Holder:
            pass
        fds = fd_count()
        h = Holder()
        h.seg = _sealshm.Segment(None, True, 8)
        h.seg.unlink()
        h.self = h
        h.view = memoryview(h.seg)
        del h
        gc.collect()
        self.assertEqual(fd_count(), fds)

    def test_not_subclassable_and_docs(self):
        with self.assertRaises(TypeError):
            class Sub(_sealshm.Segment):
                pass
        self.assertTrue(_sealshm.Segment.__doc__)
        for name in ('close', 'unlink', 'seal', 'fileno', 'name', 'size', 'readonly',
                     'closed', 'exports'):
            self.assertTrue(getattr(_sealshm.Segment, name).__doc__, name)


class ThreadsTest(TrackerdTestCase):

    def test_many_threads_create_attach(self):
        errors = []

        def work():
            try:
                for _ in range(20):
                    s = _sealshm.Segment(None, True, 64)
                    p = _sealshm.Segment(s.name, False)
                    p.close()
                    s.unlink()
                    s.close()
            except BaseException as e:
                errors.append(e)
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT * 3)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])


if __name__ == '__main__':
    unittest.main()
