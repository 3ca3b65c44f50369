# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tracking as a Python user sees it in CPython: a program and every child
multiprocessing starts (fork, spawn, forkserver) share one tracking session,
as they share CPython's resource tracker; a program started independently
has its own; track=False opts out; a family that ends (kill -9 included)
takes its names with it.

Each case runs a whole family in a program of its own (a "family" below)
and watches trackerd from this test process, which is no member of it."""

import os
import signal
import subprocess
import sys
import textwrap
import unittest

from _support import TIMEOUT, exists, gone, unique

METHODS = ('fork', 'spawn', 'forkserver')

# The family: its main process starts a child with METHOD that creates (or
# attaches) a tracked name and exits; the main process then reports and
# waits for a line on stdin before it exits itself.
FAMILY = textwrap.dedent('''
    import multiprocessing, sys
    from sealshm import shared_memory

    def child(name, create, track):
        if create:
            shm = shared_memory.SharedMemory(name, create=True, size=64, track=track)
        else:
            shm = shared_memory.SharedMemory(name, track=track)
        shm.close()

    if __name__ == '__main__':
        method, name, create, track, main_uses = sys.argv[1:6]
        ctx = multiprocessing.get_context(method)
        if main_uses == 'yes':
            shared_memory.SharedMemory(create=True, size=8).close()
        p = ctx.Process(target=child, args=(name, create == 'create', track == 'track'))
        p.start()
        p.join(30)
        print('child', p.exitcode, flush=True)
        sys.stdin.readline()
''')


class Family:
    """A family program run from a file (spawn and forkserver need a real
    __main__ module), stopped by a line on stdin or kill -9."""

    def __init__(self, tmpdir, *args):
        path = os.path.join(tmpdir, 'family.py')
        with open(path, 'w') as f:
            f.write(FAMILY)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.p = subprocess.Popen([sys.executable, path, *args], env=env, cwd=tmpdir,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)

    def child_done(self):
        line = self.p.stdout.readline()
        return line.strip()

    def end(self):
        self.p.stdin.write('\n')
        self.p.stdin.flush()
        return self.p.wait(TIMEOUT)

    def kill(self):
        # kill -9 of the whole family: main process and whatever it left
        self.p.send_signal(signal.SIGKILL)
        return self.p.wait(TIMEOUT)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(TIMEOUT)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            f.close()


class Tracking(unittest.TestCase):
    def setUp(self):
        import tempfile
        self.tmp = tempfile.TemporaryDirectory()
        self.families = []

    def tearDown(self):
        for fam in self.families:
            fam.close()
        self.tmp.cleanup()

    def family(self, *args):
        fam = Family(self.tmp.name, *args)
        self.families.append(fam)
        return fam

    def test_child_of_every_start_method_tracks_into_the_family(self):
        # The child's name outlives the child (its family still lives) and
        # goes when the family ends, as CPython's shared tracker does it.
        # One exception, CPython's too: a forked child of a main process
        # that had not used shared memory yet starts its own tracker, and
        # its names go when it exits (spawn and forkserver always start the
        # main process's tracker first).
        for method in METHODS:
            for main_uses in ('no', 'yes'):
                with self.subTest(method=method, main_uses=main_uses):
                    name = unique('family_' + method)
                    fam = self.family(method, name, 'create', 'track', main_uses)
                    self.assertEqual(fam.child_done(), 'child 0')
                    if method == 'fork' and main_uses == 'no':
                        self.assertTrue(gone(name), 'a forked child with its own session')
                        fam.end()
                        continue
                    self.assertTrue(exists(name), 'the child exited: the family lives')
                    self.assertEqual(fam.end(), 0)
                    self.assertTrue(gone(name), 'the family ended: its name goes')

    def test_family_killed_takes_its_names(self):
        for method in METHODS:
            with self.subTest(method=method):
                name = unique('killed_' + method)
                fam = self.family(method, name, 'create', 'track', 'yes')
                self.assertEqual(fam.child_done(), 'child 0')
                fam.kill()
                self.assertTrue(gone(name))

    def test_untracked_names_outlive_the_family(self):
        from sealshm import shared_memory
        for method in METHODS:
            with self.subTest(method=method):
                name = unique('untracked_' + method)
                fam = self.family(method, name, 'create', 'notrack', 'no')
                self.assertEqual(fam.child_done(), 'child 0')
                fam.end()
                self.assertTrue(exists(name))
                shared_memory.SharedMemory(name, track=False).unlink()

    def test_independent_program_has_its_own_session(self):
        # This test process creates a name untracked; a program it starts
        # with subprocess (not multiprocessing) attaches it tracked and
        # exits: CPython's rule takes the name with that program, whose
        # session is its own (not this process's, which still lives).
        from sealshm import shared_memory
        name = unique('independent')
        shm = shared_memory.SharedMemory(name, create=True, size=8, track=False)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        r = subprocess.run([sys.executable, '-c',
                            'import sys\nfrom sealshm import shared_memory\n'
                            'shared_memory.SharedMemory(sys.argv[1]).close()', name],
                           env=env, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0)
        self.assertTrue(gone(name))
        shm.close()

    def test_attach_in_a_child_is_tracked_by_the_family(self):
        # A child attaching (not creating) a name the family did not make:
        # tracked by the family, so it goes when the family ends, not when
        # the child does.
        from sealshm import shared_memory
        for method in METHODS:
            with self.subTest(method=method):
                name = unique('attached_' + method)
                shm = shared_memory.SharedMemory(name, create=True, size=8, track=False)
                fam = self.family(method, name, 'attach', 'track', 'yes')
                self.assertEqual(fam.child_done(), 'child 0')
                self.assertTrue(exists(name))
                fam.end()
                self.assertTrue(gone(name))
                shm.close()


if __name__ == '__main__':
    unittest.main()
