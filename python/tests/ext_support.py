# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers of the test_ext_*.py tests (the extension sealshm._sealshm's
contract): a private trackerd per test class, fd counting, and a proxy
that can hold a request on its way to trackerd (to catch a call with the
GIL released).

Every wait here has a timeout.
"""

import array
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from sealshm import _sealshm

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 10.0


def find_trackerd():
    """The trackerd to start: beside the extension (a built package), else
    $SEALSHM_TRACKERD, else the source tree's build/."""
    for path in (_sealshm.trackerd_path(), os.environ.get('SEALSHM_TRACKERD'),
                 os.path.join(TOP, 'build', 'trackerd', 'trackerd')):
        if path and os.access(path, os.X_OK):
            return path
    raise unittest.SkipTest('no trackerd program found')


def fd_count():
    return len(os.listdir('/proc/self/fd'))


def wait_for(pred, timeout=TIMEOUT, what='condition'):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.005)


class Trackerd:
    """trackerd --foreground on a socket in a new directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='sealshm-ext-')
        self.socket = os.path.join(self.dir, 't.sock')
        self.log = open(os.path.join(self.dir, 'trackerd.log'), 'w')
        self.proc = subprocess.Popen([find_trackerd(), '--foreground', '--socket', self.socket],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f'trackerd exited: {self.proc.returncode}')
            try:
                _sealshm.registry_stats(socket=self.socket)
                return True
            except OSError:
                return False
        try:
            wait_for(ready, what='trackerd to answer')
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=TIMEOUT)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class TrackerdTestCase(unittest.TestCase):
    """A private trackerd for the class, the default one for the library
    meanwhile ($SEALSHM_SOCKET, no autostart)."""

    @classmethod
    def setUpClass(cls):
        cls.trackerd = Trackerd()
        cls._saved_env = {k: os.environ.get(k) for k in ('SEALSHM_SOCKET',
                                                         'SEALSHM_NO_AUTOSTART')}
        os.environ['SEALSHM_SOCKET'] = cls.trackerd.socket
        os.environ['SEALSHM_NO_AUTOSTART'] = '1'
        # Open the library's connections and session now, so that the
        # tests' fd counts see only what a call leaves behind.
        seg = _sealshm.Segment(None, True, 1)
        _sealshm.Segment(seg.name, False).close()
        seg.unlink()
        seg.close()

    @classmethod
    def tearDownClass(cls):
        for k, v in cls._saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        cls.trackerd.stop()

    def names(self, socket=None):
        return sorted(d['name'] for d in _sealshm.registry_list(socket=socket))

    @contextlib.contextmanager
    def assertNothingLeft(self):
        """No fd and no name more after the block than before it."""
        fds, names = fd_count(), self.names()
        yield
        self.assertEqual(fd_count(), fds, 'fds left behind')
        self.assertEqual(self.names(), names, 'names left behind')

    def segment(self, size=64, **kw):
        """A new segment unlinked (and closed) at the test's end."""
        seg = _sealshm.Segment(None, True, size, **kw)
        self.addCleanup(self._drop, seg)
        return seg

    @staticmethod
    def _drop(seg):
        try:
            seg.unlink()
        except FileNotFoundError:
            pass
        try:
            seg.close()
        except BufferError:
            pass


def run_thread(target, *args):
    """Start @target in a daemon thread; returns (thread, result dict):
    result['value'] or result['error'] once it ends."""
    result = {}

    def run():
        try:
            result['value'] = target(*args)
        except BaseException as e:
            result['error'] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


class HoldingProxy:
    """A SOCK_SEQPACKET proxy in front of a trackerd, forwarding every
    message (and its fds) both ways.  hold() makes it keep the next request
    of a client (not answered, so the caller waits inside the library)
    until release()."""

    def __init__(self, target):
        self.target = target
        self.dir = tempfile.mkdtemp(prefix='sealshm-proxy-')
        self.path = os.path.join(self.dir, 'proxy.sock')
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(self.path)
        self.listener.listen(16)
        self.listener.settimeout(0.1)
        self._hold = threading.Event()
        self._release = threading.Event()
        self.holding = threading.Event()
        self._stop = threading.Event()
        self._socks = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def hold(self):
        self._release.clear()
        self.holding.clear()
        self._hold.set()

    def release(self):
        self._hold.clear()
        self._release.set()

    def _accept(self):
        while not self._stop.is_set():
            try:
                c, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(self.target)
            self._socks += [c, s]
            for a, b, up in ((c, s, True), (s, c, False)):
                t = threading.Thread(target=self._pump, args=(a, b, up), daemon=True)
                self._threads.append(t)
                t.start()

    def _pump(self, src, dst, up):
        src.settimeout(0.1)
        fd_size = array.array('i').itemsize
        while not self._stop.is_set():
            try:
                data, anc, flags, _ = src.recvmsg(65536, socket.CMSG_SPACE(4 * fd_size))
            except socket.timeout:
                continue
            except OSError:
                break
            fds = array.array('i')
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[:len(payload) - len(payload) % fd_size])
            if not data:
                break
            if up and self._hold.is_set():
                self.holding.set()
                self._release.wait(TIMEOUT)
            try:
                dst.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)] if fds else [])
            except OSError:
                break
            finally:
                for fd in fds:
                    os.close(fd)
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self._stop.set()
        self._release.set()
        self.listener.close()
        for t in self._threads:
            t.join(TIMEOUT)
        for s in self._socks:
            s.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class SilentServer:
    """A SOCK_SEQPACKET socket that accepts and never answers, until
    close(): a client waits there inside the library."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='sealshm-silent-')
        self.path = os.path.join(self.dir, 'silent.sock')
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(self.path)
        self.listener.listen(4)
        self.conns = []
        self.listener.settimeout(TIMEOUT)

    def accept(self):
        c, _ = self.listener.accept()
        self.conns.append(c)
        return c

    def close(self):
        for c in self.conns:
            c.close()
        self.listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def child(fn):
    """Run @fn in a forked child; returns its exit status (0 on success,
    1 with the traceback on stderr)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    deadline = time.monotonic() + TIMEOUT
    while True:
        p, status = os.waitpid(pid, os.WNOHANG)
        if p:
            return os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') \
                else (status >> 8)
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise AssertionError('forked child did not finish in time')
        time.sleep(0.005)
