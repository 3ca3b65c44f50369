# SPDX-License-Identifier: LGPL-2.1-or-later
"""The package as built: imported from the build tree, the project's
version, an extension that carries the library inside it, the trackerd
bundled beside it started on the first call, and every multiprocessing
start method able to import it.  (run.py sets the environment up:
SEALSHM_TEST_PACKAGE names the build's package directory.)"""

import multiprocessing
import os
import re
import subprocess
import sys
import unittest

import sealshm
from sealshm import _sealshm, shared_memory

TIMEOUT = 30.0
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
PACKAGE = os.environ.get('SEALSHM_TEST_PACKAGE', '')


def project_version():
    with open(os.path.join(TOP, 'Makefile')) as f:
        return re.search(r'^VERSION\s*:=\s*(\S+)', f.read(), re.M).group(1)


def tool(*argv):
    """stdout of a binutils command; SkipTest when it is not installed."""
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=TIMEOUT, check=True).stdout
    except FileNotFoundError:
        raise unittest.SkipTest('%s is not installed (binutils)' % argv[0])


def trackerds_on(sock):
    """pids of the trackerd processes serving @sock."""
    pids = []
    for d in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                argv = f.read().split(b'\0')
        except (OSError, ValueError):
            continue
        if argv[:1] == [b'trackerd'] and os.fsencode(sock) in argv:
            pids.append(int(d))
    return pids


def child_reads(name):
    """In a child process: where sealshm comes from, and the first bytes
    of segment @name."""
    import sealshm as s
    from sealshm import shared_memory as sm
    shm = sm.SharedMemory(name)
    try:
        return s.__file__, bytes(shm.buf[:5])
    finally:
        shm.close()


@unittest.skipUnless(PACKAGE, 'not run by python/tests/run.py (SEALSHM_TEST_PACKAGE unset)')
class BuiltPackage(unittest.TestCase):
    def test_imported_from_the_build(self):
        # sealshm and its extension come from the package under test, not
        # from an installed copy or the source tree.
        pkg = os.path.join(os.path.realpath(PACKAGE), 'sealshm')
        self.assertEqual(os.path.dirname(os.path.realpath(sealshm.__file__)), pkg)
        self.assertEqual(os.path.dirname(os.path.realpath(_sealshm.__file__)), pkg)

    def test_build_holds_every_source_file(self):
        # Every .py/.pyi file and py.typed of python/sealshm is in the
        # build, byte for byte (no stale copy).
        src = os.path.join(TOP, 'python', 'sealshm')
        names = [n for n in os.listdir(src) if n.endswith(('.py', '.pyi')) or n == 'py.typed']
        self.assertIn('__init__.py', names)
        for n in names:
            with open(os.path.join(src, n), 'rb') as a, \
                 open(os.path.join(PACKAGE, 'sealshm', n), 'rb') as b:
                self.assertEqual(a.read(), b.read(), n)

    def test_version_is_the_projects(self):
        self.assertEqual(_sealshm.version(), project_version())

    def test_extension_is_self_contained(self):
        # The library is linked in: no libsealshm.so (nor libpython) at
        # run time, and only the module's init function is exported.
        so = _sealshm.__file__
        needed = re.findall(r'\(NEEDED\).*\[(.*)\]', tool('readelf', '-d', so))
        self.assertTrue(needed)
        self.assertEqual([n for n in needed if 'sealshm' in n or 'python' in n], [])
        exported = [ln.split()[2] for ln in tool('nm', '-D', '--defined-only', so).splitlines()
                    if len(ln.split()) == 3 and ln.split()[1] != 'A']
        self.assertEqual(exported, ['PyInit__sealshm'])

    def test_bundled_trackerd_is_started(self):
        # The package's trackerd link is the program the library starts
        # (SEALSHM_TRACKERD is unset): the first call starts it on the
        # private socket.
        bundled = os.path.realpath(os.path.join(PACKAGE, 'sealshm', 'trackerd'))
        self.assertTrue(os.access(bundled, os.X_OK))
        self.assertNotIn('SEALSHM_TRACKERD', os.environ)
        self.assertEqual(_sealshm.trackerd_path(), bundled)
        shm = shared_memory.SharedMemory(create=True, size=4096)
        try:
            sock = os.environ['SEALSHM_SOCKET']
            pids = trackerds_on(sock)
            self.assertEqual(len(pids), 1, 'trackerd processes on %s: %s' % (sock, pids))
            self.assertEqual(os.path.realpath('/proc/%d/exe' % pids[0]), bundled)
        finally:
            shm.unlink()
            shm.close()

    def test_every_start_method_imports_the_package(self):
        # A child started by fork, spawn or forkserver imports the same
        # package and attaches a segment by name.
        for method in multiprocessing.get_all_start_methods():
            with self.subTest(method=method):
                shm = shared_memory.SharedMemory(create=True, size=4096)
                try:
                    shm.buf[:5] = b'hello'
                    ctx = multiprocessing.get_context(method)
                    with ctx.Pool(1) as pool:
                        where, data = pool.apply_async(child_reads, (shm.name,)).get(TIMEOUT)
                    self.assertEqual(where, sealshm.__file__)
                    self.assertEqual(data, b'hello')
                finally:
                    # Whether the name outlives the child's session is
                    # test_shared_memory's business, not this test's.
                    try:
                        shm.unlink()
                    except FileNotFoundError:
                        pass
                    shm.close()

if __name__ == '__main__':
    unittest.main()
