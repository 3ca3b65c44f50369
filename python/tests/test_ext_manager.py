# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm._sealshm.Manager: start, connect, create and attach through it,
shutdown and close (idempotent), errors, a forked copy."""

import os
import threading
import unittest

from sealshm import _sealshm
from ext_support import TIMEOUT, TrackerdTestCase, child, fd_count, find_trackerd


class ManagerTest(TrackerdTestCase):

    def start(self, **kw):
        kw.setdefault('trackerd', find_trackerd())
        m = _sealshm.Manager.start(**kw)
        self.addCleanup(m.shutdown)
        return m

    def test_start_create_attach_shutdown(self):
        fds = fd_count()
        m = _sealshm.Manager.start(trackerd=find_trackerd())
        self.assertTrue(os.path.exists(m.address))
        self.assertGreater(m.pid, 0)
        self.assertFalse(m.closed)
        self.assertIn(m.address, repr(m))
        stats = _sealshm.registry_stats(socket=m.address)
        self.assertTrue(stats['manager'])
        self.assertEqual(stats['pid'], m.pid)

        seg = m.create(32)
        self.assertRegex(seg.name, '^psm_[0-9a-f]{8}$')
        self.assertEqual(seg.size, 32)
        with memoryview(seg) as mv:
            mv[:2] = b'hi'
        peer = m.attach(seg.name)
        self.assertEqual(bytes(memoryview(peer)[:2]), b'hi')
        ro = m.attach(seg.name, readonly=True)
        self.assertTrue(ro.readonly)
        sl = m.slist_create([1, 'two', None])
        self.assertEqual(list(sl), [1, 'two', None])
        sl2 = m.slist_attach(sl.segment.name)
        sl2[0] = 5
        self.assertEqual(sl[0], 5)
        rl = m.slist_attach(sl.segment.name, readonly=True)
        with self.assertRaises(TypeError):
            rl[0] = 1
        names = sorted(d['name'] for d in _sealshm.registry_list(socket=m.address))
        self.assertEqual(names, sorted([seg.name, sl.segment.name]))
        self.assertNotIn(seg.name, self.names())        # not in the default trackerd

        m.shutdown()
        self.assertTrue(m.closed)
        m.shutdown()                                    # again: nothing
        m.close()
        for op in (lambda: m.create(8), lambda: m.attach(seg.name),
                   lambda: m.slist_create([1]), lambda: m.slist_attach(sl.segment.name)):
            with self.assertRaisesRegex(ValueError, 'closed manager'):
                op()
        self.assertEqual(m.address, m.address)          # kept
        # Mappings stay valid after the manager has gone.
        self.assertEqual(bytes(memoryview(seg)[:2]), b'hi')
        self.assertEqual(sl[0], 5)
        for o in (seg, peer, ro, sl, sl2, rl):
            o.close()
        self.assertEqual(fd_count(), fds)

    def test_unlink_through_manager(self):
        m = self.start()
        seg = m.create(8)
        seg.unlink()
        with self.assertRaises(FileNotFoundError):
            m.attach(seg.name)
        seg2 = m.create(8)
        seg2.close()
        seg2.unlink()                   # after close: by name, to the manager
        self.assertEqual(_sealshm.registry_list(socket=m.address), [])
        seg.close()

    def test_errors(self):
        with self.assertRaisesRegex(TypeError, 'cannot create'):
            _sealshm.Manager()
        m = self.start()
        with self.assertRaisesRegex(ValueError, 'different from zero'):
            m.create(0)
        with self.assertRaisesRegex(ValueError, 'positive integer'):
            m.create(-1)
        with self.assertRaises(TypeError):
            m.create('8')
        with self.assertRaisesRegex(KeyError, 'list'):
            m.slist_create([[1]])
        with self.assertRaises(FileNotFoundError) as cm:
            m.attach('ext_none')
        self.assertEqual(cm.exception.filename, '/ext_none')
        with self.assertRaisesRegex(ValueError, 'invalid name'):
            m.slist_attach('a b')
        with self.assertRaises(OSError):
            _sealshm.Manager.connect(m.address + '.absent')
        with self.assertRaisesRegex(ValueError, '1 to 256 bytes'):
            _sealshm.Manager.start(b'', trackerd=find_trackerd())
        with self.assertRaisesRegex(ValueError, '1 to 256 bytes'):
            _sealshm.Manager.start(b'k' * 257, trackerd=find_trackerd())
        with self.assertRaises(TypeError):
            _sealshm.Manager.start('key', trackerd=find_trackerd())
        with self.assertRaises(OSError):
            _sealshm.Manager.start(trackerd='/nonexistent/trackerd')
        self.assertEqual(_sealshm.registry_list(socket=m.address), [])

    def test_authkey(self):
        m = self.start(authkey=b'secret')
        seg = m.create(8)
        self.addCleanup(seg.close)

        def wrong_key():
            try:
                _sealshm.Manager.connect(m.address, b'wrong')
            except PermissionError:
                return
            raise AssertionError('connected with a wrong key')

        def right_key():
            c = _sealshm.Manager.connect(m.address, authkey=b'secret')
            p = c.attach(seg.name)
            p.close()
            c.close()
        self.assertEqual(child(wrong_key), 0)
        self.assertEqual(child(right_key), 0)

    def test_forked_copy_shutdown_frees_only_the_copy(self):
        m = self.start()
        seg = m.create(8)
        self.addCleanup(seg.close)

        def in_child():
            m.shutdown()
        self.assertEqual(child(in_child), 0)
        peer = m.attach(seg.name)
        peer.close()

    def test_threads(self):
        m = self.start()
        errors = []

        def work():
            try:
                for _ in range(10):
                    s = m.create(16)
                    p = m.attach(s.name)
                    p.close()
                    s.unlink()
                    s.close()
            except BaseException as e:
                errors.append(e)
        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT * 3)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])

    def test_docs(self):
        self.assertTrue(_sealshm.Manager.__doc__)
        for name in ('start', 'connect', 'create', 'slist_create', 'attach', 'slist_attach',
                     'shutdown', 'close', 'address', 'pid'):
            self.assertTrue(getattr(_sealshm.Manager, name).__doc__, name)


if __name__ == '__main__':
    unittest.main()
