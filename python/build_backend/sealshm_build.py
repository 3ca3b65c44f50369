# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm's PEP 517 build backend, in the tree (pyproject.toml's
backend-path) and needing nothing but Python's standard library: pip
builds sealshm offline, without setuptools.

    pip install .                       a wheel built and installed
    pip wheel --no-deps -w dist .       the wheel alone

build_wheel compiles, with the system compiler and the project's flags,
the library (lib/*.c), the extension sealshm._sealshm (python/ext/*.c,
linked with the library's objects: self-contained, exporting only
PyInit__sealshm) and trackerd (trackerd/*.c, with libseccomp and libcap
from pkg-config), and packs them with python/sealshm's .py/.pyi files and
py.typed into a wheel whose sealshm/ holds trackerd beside the extension:
the library starts the trackerd in its own directory first
(lib/launch.c).  CC, CPPFLAGS, CFLAGS (default -g -O2) and LDFLAGS come
from the environment as in the Makefile; the wheel is tagged for the
running interpreter (cp311-cp311-linux_x86_64), as its extension is.

build_sdist packs what a wheel is built from.  No editable installs: the
extension and trackerd are build products; use `make` and
PYTHONPATH=build/python to work on the tree.
"""

import base64
import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

NAME = 'sealshm'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUMMARY = ("Python's multiprocessing.shared_memory for Linux: sealed memfd segments "
           "named by a small daemon, trackerd")
# What the compiled-in trackerd path says when no trackerd sits beside the
# extension (the Makefile's default PREFIX); the wheel carries its own.
TRACKERD_PATH = '/usr/local/sbin/trackerd'
TRACKERD_PKGS = ['libseccomp', 'libcap']
# The sdist: these files and directories of the tree (without build
# outputs and caches).
SDIST_FILES = ['pyproject.toml', 'README.md', 'Makefile']
SDIST_DIRS = ['lib', 'trackerd', 'python']
SDIST_SKIP_DIRS = {'__pycache__', '.git'}
SDIST_SKIP_EXT = ('.o', '.d', '.a', '.so', '.pyc', '.whl', '.tar.gz')


class BuildError(Exception):
    pass


def _version():
    with open(os.path.join(ROOT, 'Makefile')) as f:
        m = re.search(r'^VERSION\s*:=\s*(\S+)\s*$', f.read(), re.M)
    if not m:
        raise BuildError('Makefile: no "VERSION := ..." line')
    return m.group(1)


def _tag():
    """interpreter-abi-platform of this interpreter: the extension is
    built for it alone."""
    impl = {'cpython': 'cp'}.get(sys.implementation.name, sys.implementation.name)
    ver = '%d%d' % sys.version_info[:2]
    # SOABI: cpython-311-x86_64-linux-gnu, cpython-313t-... (free-threaded)
    m = re.match(r'cpython-(\d+)([a-z]*)', sysconfig.get_config_var('SOABI') or '')
    abi = 'cp%s%s' % m.groups() if m else 'abi3'
    plat = re.sub(r'[-.]', '_', sysconfig.get_platform())
    return '%s%s-%s-%s' % (impl, ver, abi, plat)


def _dist_info():
    return '%s-%s.dist-info' % (NAME, _version())


def _metadata():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    return ('Metadata-Version: 2.1\n'
            'Name: %s\n'
            'Version: %s\n'
            'Summary: %s\n'
            'License: LGPL-2.1-or-later\n'
            'Requires-Python: >=3.8\n'
            'Classifier: Operating System :: POSIX :: Linux\n'
            'Classifier: Programming Language :: C\n'
            'Classifier: Programming Language :: Python :: 3\n'
            'Classifier: Programming Language :: Python :: Implementation :: CPython\n'
            'Description-Content-Type: text/markdown\n'
            '\n%s' % (NAME, _version(), SUMMARY, readme))


def _wheel_file():
    return ('Wheel-Version: 1.0\n'
            'Generator: sealshm_build %s\n'
            'Root-Is-Purelib: false\n'
            'Tag: %s\n' % (_version(), _tag()))


# --- compiling ---------------------------------------------------------------

def _env_flags(name, default=''):
    return shlex.split(os.environ.get(name, default))


def _run(argv):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if r.returncode != 0:
        raise BuildError('this command failed:\n%s\n%s'
                         % (' '.join(shlex.quote(a) for a in argv), r.stdout))
    if r.stdout.strip():
        print(r.stdout, end='', flush=True)


def _pkg_config(*args):
    pc = os.environ.get('PKG_CONFIG', 'pkg-config')
    try:
        r = subprocess.run([pc, *args, *TRACKERD_PKGS], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
    except FileNotFoundError:
        r = None
    if r is None or r.returncode != 0:
        raise BuildError('trackerd needs %s and their pkg-config files (%s %s failed: %s); '
                         'on Debian: apt-get install pkg-config libseccomp-dev libcap-dev'
                         % (' and '.join(TRACKERD_PKGS), pc, ' '.join(args),
                            r.stderr.strip() if r else 'not found'))
    return shlex.split(r.stdout)


def _sources(d):
    return sorted(os.path.join(d, f) for f in os.listdir(os.path.join(ROOT, d))
                  if f.endswith('.c'))


def _compile_all(out):
    """Build the extension and trackerd under @out; their paths."""
    cc = _env_flags('CC', 'cc')
    user = _env_flags('CPPFLAGS') + _env_flags('CFLAGS', '-g -O2')
    ldflags = _env_flags('LDFLAGS')
    base = ['-std=gnu11', '-Wall', '-Wextra', '-D_GNU_SOURCE', '-fvisibility=hidden',
            '-DSEALSHM_VERSION="%s"' % _version(),
            '-DSEALSHM_TRACKERD_PATH="%s"' % TRACKERD_PATH,
            '-I' + os.path.join(ROOT, 'lib'), '-I' + os.path.join(ROOT, 'lib', 'include')]
    paths = sysconfig.get_paths()
    py_inc = ['-isystem', paths['include']]
    if paths.get('platinclude', paths['include']) != paths['include']:
        py_inc += ['-isystem', paths['platinclude']]
    if sys.version_info < (3, 9):
        # PyMODINIT_FUNC had no visibility("default") yet (pyport.h keeps
        # one defined before it): -fvisibility=hidden would hide it.
        py_inc.append('-DPyMODINIT_FUNC=__attribute__((visibility("default"))) PyObject *')
    if not os.path.isfile(os.path.join(paths['include'], 'Python.h')):
        raise BuildError('%s (Python %d.%d) has no C headers: %s/Python.h is missing '
                         '(Debian: apt-get install python3-dev)'
                         % ((sys.executable,) + sys.version_info[:2] + (paths['include'],)))
    td_cflags = _pkg_config('--cflags')
    # As the Makefile's SANITIZE=1: trackerd then defaults to
    # --seccomp=log, as sanitizer runtimes make syscalls no allow-list
    # predicts.
    if any(f.startswith('-fsanitize=') for f in user):
        td_cflags.append('-DSEALSHM_SANITIZE')
    td_libs = _pkg_config('--libs')

    jobs = []   # (source, object, extra flags)
    for src in _sources('lib'):
        jobs.append((src, os.path.join(out, src[:-2] + '.o'), ['-fPIC']))
    ext_srcs = _sources(os.path.join('python', 'ext'))
    if not ext_srcs:
        raise BuildError('python/ext/ holds no .c file: no extension to build')
    for src in ext_srcs:
        jobs.append((src, os.path.join(out, src[:-2] + '.o'), ['-fPIC'] + py_inc))
    for src in _sources('trackerd'):
        jobs.append((src, os.path.join(out, src[:-2] + '.o'), td_cflags))

    def compile_one(job):
        src, obj, extra = job
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        print('  CC       ' + src, flush=True)
        _run(cc + base + extra + user + ['-c', os.path.join(ROOT, src), '-o', obj])

    try:
        ncpu = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        ncpu = os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=max(1, ncpu)) as pool:
        errors = []
        for f in [pool.submit(compile_one, j) for j in jobs]:
            try:
                f.result()
            except BuildError as e:
                errors.append(str(e))
    if errors:
        raise BuildError('\n'.join(errors))

    objs = {d: [o for s, o, _ in jobs if s.startswith(d + os.sep)]
            for d in ('lib', 'trackerd', os.path.join('python', 'ext'))}
    os.makedirs(os.path.join(out, NAME))
    ext = os.path.join(out, NAME, '_sealshm' + sysconfig.get_config_var('EXT_SUFFIX'))
    trackerd = os.path.join(out, NAME, 'trackerd')
    print('  LD      ', os.path.basename(ext), flush=True)
    _run(cc + base + user + ldflags + ['-shared', '-Wl,--version-script=' +
         os.path.join(ROOT, 'python', '_sealshm.map')] + objs[os.path.join('python', 'ext')] +
         objs['lib'] + ['-lpthread', '-o', ext])
    print('  LD       trackerd', flush=True)
    _run(cc + base + user + ldflags + objs['trackerd'] + objs['lib'] + td_libs +
         ['-lpthread', '-o', trackerd])
    return ext, trackerd


# --- packing -----------------------------------------------------------------

def _date_time():
    """Reproducible: SOURCE_DATE_EPOCH, else the earliest date zip holds."""
    epoch = os.environ.get('SOURCE_DATE_EPOCH')
    if epoch:
        return time.gmtime(max(int(epoch), 315532800))[:6]
    return (1980, 1, 1, 0, 0, 0)


def _package_files():
    src = os.path.join(ROOT, 'python', NAME)
    return sorted(os.path.join(src, f) for f in os.listdir(src)
                  if f.endswith(('.py', '.pyi')) or f == 'py.typed')


class _Wheel:
    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED)
        self.record = []

    def add(self, arcname, data, mode=0o644):
        info = zipfile.ZipInfo(arcname, _date_time())
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=')
        self.record.append('%s,sha256=%s,%d' % (arcname, digest.decode(), len(data)))

    def add_file(self, arcname, path, mode=0o644):
        with open(path, 'rb') as f:
            self.add(arcname, f.read(), mode)

    def close(self, record_name):
        self.record.append(record_name + ',,')
        info = zipfile.ZipInfo(record_name, _date_time())
        info.external_attr = 0o100644 << 16
        self.zip.writestr(info, ''.join(r + '\n' for r in self.record),
                          zipfile.ZIP_DEFLATED)
        self.zip.close()


# --- PEP 517 hooks --------------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    d = os.path.join(metadata_directory, _dist_info())
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'METADATA'), 'w', encoding='utf-8') as f:
        f.write(_metadata())
    with open(os.path.join(d, 'WHEEL'), 'w') as f:
        f.write(_wheel_file())
    return _dist_info()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = '%s-%s-%s.whl' % (NAME, _version(), _tag())
    tmp = tempfile.mkdtemp(prefix='sealshm-wheel.')
    try:
        ext, trackerd = _compile_all(os.path.join(tmp, 'build'))
        path = os.path.join(tmp, name)
        w = _Wheel(path)
        for f in _package_files():
            w.add_file('%s/%s' % (NAME, os.path.basename(f)), f)
        w.add_file('%s/%s' % (NAME, os.path.basename(ext)), ext, 0o755)
        w.add_file('%s/trackerd' % NAME, trackerd, 0o755)
        di = _dist_info()
        w.add(di + '/METADATA', _metadata().encode('utf-8'))
        w.add(di + '/WHEEL', _wheel_file().encode())
        w.add(di + '/top_level.txt', (NAME + '\n').encode())
        w.close(di + '/RECORD')
        os.makedirs(wheel_directory, exist_ok=True)
        shutil.move(path, os.path.join(wheel_directory, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return name


def sdist_files():
    """The tree's files that go into the sdist, relative to it."""
    files = [f for f in SDIST_FILES if os.path.isfile(os.path.join(ROOT, f))]
    for top in SDIST_DIRS:
        for d, dirs, names in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(x for x in dirs if x not in SDIST_SKIP_DIRS)
            files += [os.path.relpath(os.path.join(d, n), ROOT) for n in sorted(names)
                      if not n.endswith(SDIST_SKIP_EXT) and not n.startswith('.')]
    return files


def build_sdist(sdist_directory, config_settings=None):
    base = '%s-%s' % (NAME, _version())
    name = base + '.tar.gz'
    mtime = time.mktime(_date_time() + (0, 0, -1))

    def add(tar, arcname, data, mode):
        info = tarfile.TarInfo(arcname)
        info.size, info.mode, info.mtime = len(data), mode, mtime
        tar.addfile(info, io.BytesIO(data))

    os.makedirs(sdist_directory, exist_ok=True)
    path = os.path.join(sdist_directory, name)
    with tarfile.open(path, 'w:gz', format=tarfile.PAX_FORMAT) as tar:
        add(tar, base + '/PKG-INFO', _metadata().encode('utf-8'), 0o644)
        for f in sdist_files():
            full = os.path.join(ROOT, f)
            with open(full, 'rb') as fh:
                data = fh.read()
            add(tar, '%s/%s' % (base, f), data, 0o755 if os.access(full, os.X_OK) else 0o644)
    return name
