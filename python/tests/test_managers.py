# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm.managers.SharedMemoryManager against CPython's (its
test_shared_memory_SharedMemoryManager_basics, reuses_resource_tracker and
ignores_sigint cases), with processes started by multiprocessing, and what
CPython gets wrong: a manager whose owner is killed leaks its segments."""

import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import time
import unittest

from sealshm import shared_memory
from sealshm.managers import SharedMemoryManager

from _support import TIMEOUT, run_python, wait_until


def _child_sum(sl, start, stop, result):
    # CPython's documentation example: workers sum their part of a list
    # made by the manager, which they received by pickling.
    result.put(sum(sl[i] for i in range(start, stop)))
    sl.shm.close()


def _child_write(shm, value):
    shm.buf[0] = value
    shm.close()


class ManagerBasics(unittest.TestCase):
    def test_with_statement_lists_and_segments(self):
        with SharedMemoryManager() as smm:
            self.assertTrue(os.path.exists(smm.address))
            sl = smm.ShareableList(range(10))
            shm = smm.SharedMemory(128)
            self.assertEqual(list(sl), list(range(10)))
            self.assertEqual(shm.size, 128)
            names = [sl.shm.name, shm.name]
            for name in names:
                self.assertTrue(exists_in(smm, name))
        # Shut down: the names are gone, the mappings we hold stay valid.
        self.assertEqual(sl[9], 9)
        shm.buf[0] = 1
        self.assertFalse(os.path.exists(smm.address))
        sl.shm.close()
        shm.close()

    def test_start_twice_and_use_after_shutdown(self):
        smm = SharedMemoryManager()
        smm.start()
        with self.assertRaises(multiprocessing.ProcessError):
            smm.start()
        smm.shutdown()
        smm.shutdown()
        with self.assertRaises(multiprocessing.ProcessError):
            smm.SharedMemory(8)

    def test_segments_reach_children_of_every_start_method(self):
        for method in ('fork', 'spawn', 'forkserver'):
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                with SharedMemoryManager() as smm:
                    sl = smm.ShareableList(range(2000))
                    q = ctx.Queue()
                    ps = [ctx.Process(target=_child_sum, args=(sl, 0, 1000, q)),
                          ctx.Process(target=_child_sum, args=(sl, 1000, 2000, q))]
                    for p in ps:
                        p.start()
                    total = q.get(timeout=TIMEOUT) + q.get(timeout=TIMEOUT)
                    for p in ps:
                        p.join(TIMEOUT)
                        self.assertEqual(p.exitcode, 0)
                    self.assertEqual(total, sum(range(2000)))
                    shm = smm.SharedMemory(8)
                    p = ctx.Process(target=_child_write, args=(shm, 77))
                    p.start()
                    p.join(TIMEOUT)
                    self.assertEqual(p.exitcode, 0)
                    self.assertEqual(shm.buf[0], 77)
                    shm.close()
                    sl.shm.close()

    def test_connect_from_another_program_by_address_and_authkey(self):
        key = b'a key of our own'
        with SharedMemoryManager(authkey=key) as smm:
            shm = smm.SharedMemory(16)
            shm.buf[0] = 5
            code = ('import sys\n'
                    'from sealshm.managers import SharedMemoryManager\n'
                    'from sealshm import shared_memory\n'
                    'm = SharedMemoryManager(address=sys.argv[1], authkey=sys.argv[2].encode())\n'
                    'm.connect()\n'
                    's = shared_memory.SharedMemory(sys.argv[3], socket=sys.argv[1])\n'
                    'print(s.buf[0]); s.close()\n')
            r = run_python(code, smm.address, key.decode(), shm.name)
            self.assertEqual(r.stdout.strip(), '5')
            r = run_python(code, smm.address, 'wrong key', shm.name, check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn('PermissionError', r.stderr)
            shm.close()

    def test_manager_ignores_sigint(self):
        with SharedMemoryManager() as smm:
            sl = smm.ShareableList([1, 2, 3])
            pid = manager_pid(smm)
            os.kill(pid, signal.SIGINT)
            time.sleep(0.2)
            self.assertTrue(os.path.exists(smm.address))
            self.assertEqual(smm.ShareableList([4])[0], 4)
            sl.shm.close()

    def test_owner_killed_takes_manager_and_segments(self):
        # CPython's server outlives a killed owner and leaks everything.
        code = ('import sys, time\n'
                'from sealshm.managers import SharedMemoryManager\n'
                'm = SharedMemoryManager(); m.start()\n'
                'sl = m.ShareableList([1, 2, 3])\n'
                'print(m.address, sl.shm.name, flush=True)\n'
                'time.sleep(60)\n')
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        p = subprocess.Popen([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE,
                             text=True)
        try:
            address, name = p.stdout.readline().split()
            self.assertTrue(os.path.exists(address))
            p.kill()
            p.wait(TIMEOUT)
            self.assertTrue(wait_until(lambda: not os.path.exists(address)))
        finally:
            p.kill()
            p.wait(TIMEOUT)

    def test_manager_is_not_pickled(self):
        with SharedMemoryManager() as smm:
            with self.assertRaises(TypeError):
                pickle.dumps(smm)

    def test_start_with_an_address_is_refused(self):
        with self.assertRaises(ValueError):
            SharedMemoryManager(address='/tmp/somewhere.sock').start()


def exists_in(smm, name):
    try:
        shared_memory.stat(name, socket=smm.address)
        return True
    except FileNotFoundError:
        return False


def manager_pid(smm):
    from sealshm import _sealshm
    return _sealshm.registry_stats(socket=smm.address)['pid']


if __name__ == '__main__':
    unittest.main()
