# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm._sealshm's functions and constants: version, trackerd_path,
check_name, seals_format, session_export, registry_list, stat,
registry_stats; the GIL around a call that waits for trackerd."""

import fcntl
import os
import time
import unittest

from sealshm import _sealshm
from ext_support import TIMEOUT, SilentServer, TrackerdTestCase, fd_count, run_thread


class ConstantsTest(unittest.TestCase):

    def test_constants(self):
        self.assertEqual(_sealshm.NAME_MAX, 255)
        self.assertEqual(_sealshm.SESSION_ENV, 'SEALSHM_SESSION')
        self.assertEqual(_sealshm.MANAGER_KEY_MAX, 256)
        flags = [_sealshm.RDONLY, _sealshm.NO_TRACK, _sealshm.NO_AUTOSTART,
                 _sealshm.LIFETIME_LAST, _sealshm.POSIX, _sealshm.RESERVE]
        self.assertEqual(flags, [1 << i for i in range(6)])
        # The kernel's F_SEAL_* values.
        self.assertEqual((_sealshm.SEAL_SEAL, _sealshm.SEAL_SHRINK, _sealshm.SEAL_GROW,
                          _sealshm.SEAL_WRITE, _sealshm.SEAL_FUTURE_WRITE, _sealshm.SEAL_EXEC),
                         (1, 2, 4, 8, 16, 32))
        if hasattr(fcntl, 'F_SEAL_WRITE'):
            self.assertEqual(_sealshm.SEAL_WRITE, fcntl.F_SEAL_WRITE)

    def test_version_and_trackerd_path(self):
        self.assertRegex(_sealshm.version(), r'^\d+\.\d+\.\d+$')
        self.assertTrue(os.path.isabs(_sealshm.trackerd_path()))

    def test_check_name(self):
        self.assertIsNone(_sealshm.check_name('ok'))
        self.assertIsNone(_sealshm.check_name('/ok'))
        self.assertIsNone(_sealshm.check_name('x' * 255))
        self.assertIsNone(_sealshm.check_name('日本'))
        self.assertEqual(_sealshm.check_name(''), 'is empty')
        self.assertEqual(_sealshm.check_name('x' * 256), 'is longer than 255 bytes')
        self.assertEqual(_sealshm.check_name('a/b'), "has a '/' after its first byte")
        self.assertEqual(_sealshm.check_name('a\0b'), 'has an embedded null character')
        self.assertEqual(_sealshm.check_name('a\u202eb'),
                         'has an invisible or bidirectional control character (U+202E)')
        self.assertEqual(_sealshm.check_name('\udc80'), 'is not well-formed UTF-8')
        for bad in (None, b'x', 1):
            with self.assertRaises(TypeError):
                _sealshm.check_name(bad)

    def test_seals_format(self):
        self.assertEqual(_sealshm.seals_format(0), '')
        self.assertEqual(_sealshm.seals_format(0x3f),
                         'seal,shrink,grow,write,future_write,exec')
        self.assertEqual(_sealshm.seals_format(0x6), 'shrink,grow')
        self.assertTrue(_sealshm.seals_format(0xffffffff).endswith('0x80000000'))
        with self.assertRaises(OverflowError):
            _sealshm.seals_format(-1)
        with self.assertRaises(OverflowError):
            _sealshm.seals_format(2**32)
        with self.assertRaises(TypeError):
            _sealshm.seals_format('1')

    def test_docs(self):
        for name in ('version', 'trackerd_path', 'check_name', 'seals_format', 'unlink_name',
                     'session_export', 'registry_list', 'stat', 'registry_stats'):
            self.assertTrue(getattr(_sealshm, name).__doc__, name)
        self.assertTrue(_sealshm.__doc__)


class RegistryTest(TrackerdTestCase):

    INFO_KEYS = {'name', 'size', 'uid', 'gid', 'mode', 'seals', 'ctime_ns', 'creator_pid',
                 'lifetime', 'ino', 'n_sessions', 'session_pids', 'resident', 'n_attaches',
                 'atime_ns'}

    def test_registry_list_and_stat(self):
        seg = self.segment(100, mode=0o640)
        lst = _sealshm.registry_list()
        self.assertIsInstance(lst, list)
        d = [x for x in lst if x['name'] == seg.name][0]
        self.assertEqual(set(d), self.INFO_KEYS)
        self.assertEqual(d, dict(d, size=100, uid=os.getuid(), mode=0o640,
                                 creator_pid=os.getpid(), lifetime='first',
                                 ino=os.fstat(seg.fileno()).st_ino, n_sessions=1,
                                 session_pids=[os.getpid()]))
        self.assertEqual(d['seals'] & 6, 6)
        self.assertAlmostEqual(d['ctime_ns'] / 1e9, time.time(), delta=60)
        st = _sealshm.stat(seg.name)
        self.assertEqual(st['name'], seg.name)
        self.assertEqual(_sealshm.stat('/' + seg.name)['ino'], st['ino'])
        last = _sealshm.Segment(None, True, 8, flags=_sealshm.LIFETIME_LAST)
        self.assertEqual(_sealshm.stat(last.name)['lifetime'], 'last')
        last.unlink()
        last.close()
        untracked = _sealshm.Segment(None, True, 8, flags=_sealshm.NO_TRACK)
        self.assertEqual(_sealshm.stat(untracked.name)['session_pids'], [])
        untracked.unlink()
        untracked.close()

    def test_stat_errors(self):
        with self.assertRaises(FileNotFoundError) as cm:
            _sealshm.stat('ext_none')
        self.assertEqual(cm.exception.filename, '/ext_none')
        with self.assertRaisesRegex(ValueError, 'invalid name'):
            _sealshm.stat('')
        with self.assertRaises(TypeError):
            _sealshm.stat(None)
        with self.assertRaises(OSError):
            _sealshm.registry_list(socket=self.trackerd.socket + '.absent')

    def test_registry_stats(self):
        s = _sealshm.registry_stats()
        for k in ('start_ns', 'uptime_ns', 'names', 'bytes', 'resident', 'requests',
                  'max_bytes_per_uid', 'caller_bytes', 'refused', 'sessions', 'clients',
                  'max_names', 'max_names_per_uid', 'max_clients', 'caller_names', 'pid',
                  'manager'):
            self.assertIn(k, s)
        self.assertEqual(s['pid'], self.trackerd.proc.pid)
        self.assertIs(s['manager'], False)
        self.assertIn('enoent', s['refused'])
        before = s['refused']['enoent']
        with self.assertRaises(FileNotFoundError):
            _sealshm.stat('ext_none')
        self.assertEqual(_sealshm.registry_stats()['refused']['enoent'], before + 1)

    def test_session_export(self):
        fds = fd_count()
        fd, value = _sealshm.session_export()
        try:
            self.assertIsInstance(value, str)
            self.assertTrue(value)
            self.assertTrue(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
        finally:
            os.close(fd)
        self.assertEqual(fd_count(), fds)

    def test_gil_released(self):
        for call in (lambda p: _sealshm.registry_list(socket=p),
                     lambda p: _sealshm.stat('ext_x', socket=p),
                     lambda p: _sealshm.registry_stats(socket=p),
                     lambda p: _sealshm.unlink_name('ext_x', socket=p),
                     lambda p: _sealshm.session_export(socket=p),
                     lambda p: _sealshm.SList([1], socket=p)):
            srv = SilentServer()
            try:
                t, res = run_thread(call, srv.path)
                srv.accept()
                n, deadline = 0, time.monotonic() + 0.1
                while time.monotonic() < deadline:
                    n += 1
                self.assertTrue(t.is_alive())
                self.assertGreater(n, 1000)
            finally:
                srv.close()
            t.join(TIMEOUT)
            self.assertFalse(t.is_alive())
            self.assertIsInstance(res.get('error'), OSError)


if __name__ == '__main__':
    unittest.main()
