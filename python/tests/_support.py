# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python tests share: waiting with a timeout, starting and
joining children, running a program with this test's environment, and
asking trackerd about names."""

import os
import signal
import subprocess
import sys
import tempfile
import time

from sealshm import shared_memory

# Every wait in a test has one of these.
TIMEOUT = 20.0


def wait_until(predicate, timeout=TIMEOUT, interval=0.01):
    """Poll @predicate until it is true; False when @timeout runs out."""
    end = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(interval)


def exists(name):
    try:
        shared_memory.stat(name)
        return True
    except FileNotFoundError:
        return False


def gone(name, timeout=TIMEOUT):
    """Wait until trackerd no longer has @name."""
    return wait_until(lambda: not exists(name), timeout)


def start(ctx, target, *args):
    """A daemonic child of start method context @ctx, started."""
    p = ctx.Process(target=target, args=args, daemon=True)
    p.start()
    return p


def join(p, timeout=TIMEOUT):
    """Join @p; kill it and fail when it does not end in time."""
    p.join(timeout)
    if p.exitcode is None:
        p.kill()
        p.join(TIMEOUT)
        raise AssertionError('process %d did not end within %s s' % (p.pid, timeout))
    return p.exitcode


def check_killed_family(test, program, check_names):
    """kill -9 of a whole family leaves no names: @program (a script's
    text) takes a multiprocessing start method, makes objects in its main
    process and a child, prints their names on one line and sleeps.  Run
    with fork and with spawn (subtests of @test), in a session of its own:
    @check_names(names, line) checks what it printed, every name exists;
    after killpg(SIGKILL) every name is gone."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'family.py')
        with open(path, 'w') as f:
            f.write(program)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        for method in ('fork', 'spawn'):
            with test.subTest(method=method):
                proc = subprocess.Popen([sys.executable, path, method], env=env, cwd=tmp,
                                        stdout=subprocess.PIPE, text=True,
                                        start_new_session=True)
                try:
                    line = proc.stdout.readline()
                    names = line.split()
                    check_names(names, line)
                    for n in names:
                        test.assertTrue(exists(n), n)
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(TIMEOUT)
                    for n in names:
                        test.assertTrue(gone(n), n)
                finally:
                    if proc.poll() is None:
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait(TIMEOUT)
                    proc.stdout.close()


def run_python(code, *args, timeout=TIMEOUT, env=None, check=True):
    """Run @code in a new interpreter (an independent program, as a user
    would start one), with this process's sys.path; returns its result."""
    e = dict(os.environ)
    e['PYTHONPATH'] = os.pathsep.join(p for p in sys.path if p)
    if env:
        e.update(env)
    r = subprocess.run([sys.executable, '-c', code, *args], env=e, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       close_fds=True)
    if check and r.returncode != 0:
        raise AssertionError(f'python -c exited {r.returncode}:\n{r.stdout}\n{r.stderr}')
    return r


def unique(prefix):
    """A name no other test of this run uses."""
    unique.n += 1
    return f'{prefix}_{os.getpid()}_{unique.n}'


unique.n = 0


def have_numpy():
    try:
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False
