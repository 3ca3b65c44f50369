# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run sealshm's Python test modules against a built package, each module
in a fresh interpreter, and print kselftest-style TAP: one line per test,
then "# Totals: pass:N fail:N xfail:N xpass:N skip:N error:0", which
selftests/run_tests.sh adds up.

    python3 python/tests/run.py [--package DIR] [--timeout SECONDS] [MODULE...]

  --package DIR   the directory that holds the built package sealshm/
                  (default: build/python of this source tree, what `make`
                  builds; the Makefile passes $(O)/python)
  --timeout S     per module (default 150, under run_tests.sh's 180): a
                  module still running then is killed, and the test it was
                  in fails; so does any test of a module that crashes
  MODULE          test_*.py of this directory, with or without .py
                  (default: all of them, in name order)

Each module runs with:
  - sys.path: DIR, then this directory (the tests' helpers);
  - SEALSHM_SOCKET in a fresh private directory (also XDG_RUNTIME_DIR and
    TMPDIR, so managers' sockets and temporary files land there too),
    autostart on (SEALSHM_NO_AUTOSTART and SEALSHM_TRACKERD unset): the
    first call starts the trackerd bundled beside the extension;
  - under SEALSHM_TEST_SANITIZE=1 (an ASan build), the ASan runtime
    preloaded (SEALSHM_TEST_ASAN_RUNTIME, or what `cc -print-file-name`
    says), leak detection off: the interpreter's own allocations are not
    the extension's leaks.
This runner is a child subreaper: whatever the module leaves running
(trackerd above all, which daemonizes) becomes its child and is stopped
before the next module starts, and no trackerd outlives the run.

Every multiprocessing start method works in the tests (this file's main
part is guarded; spawn and forkserver re-import it as __mp_main__).
"""

import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DEFAULT_TIMEOUT = 150
PR_SET_CHILD_SUBREAPER = 36


# --- the child: one module, its results as JSON lines --------------------

def child_main(module, report):
    import unittest

    out = open(report, 'w', buffering=1)

    def emit(**rec):
        out.write(json.dumps(rec) + '\n')
        out.flush()

    class Result(unittest.TestResult):
        """Reports each test once, at its end, with its worst outcome
        (a failed subtest fails the test); errors outside any test
        (setUpClass, setUpModule) are reports of their own."""

        def __init__(self):
            super().__init__()
            self.cur = None

        def _is_cur(self, test):
            test = getattr(test, 'test_case', test)   # a subtest's test
            return self.cur is not None and test.id() == self.cur['id']

        def _note(self, test, status, detail='', reason=''):
            rank = ['pass', 'skip', 'xfail', 'xpass', 'fail']
            if self._is_cur(test):
                c = self.cur
                if rank.index(status) >= rank.index(c['status']):
                    c['status'] = status
                    c['reason'] = reason or c['reason']
                if detail:
                    c['detail'] += detail
            else:
                emit(event='result', id=str(test), status=status, detail=detail,
                     reason=reason)

        def startTest(self, test):
            super().startTest(test)
            self.cur = {'id': test.id(), 'status': 'pass', 'detail': '', 'reason': ''}
            self.t0 = time.monotonic()
            emit(event='start', id=test.id())

        def stopTest(self, test):
            super().stopTest(test)
            if self._is_cur(test):
                emit(event='result', secs=round(time.monotonic() - self.t0, 3), **self.cur)
                self.cur = None

        def addError(self, test, err):
            super().addError(test, err)
            self._note(test, 'fail', self._exc_info_to_string(err, test))

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self._note(test, 'fail', self._exc_info_to_string(err, test))

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            if err is not None:
                self._note(test, 'fail', '%s\n%s' % (subtest, self._exc_info_to_string(err, test)))

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            if getattr(test, 'test_case', None) is None:   # a skipped subtest is not the test
                self._note(test, 'skip', reason=reason)

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            self._note(test, 'xfail')

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            self._note(test, 'xpass')

    try:
        mod = __import__(module)
    except unittest.SkipTest as e:
        emit(event='result', id=module, status='skip', reason=str(e), detail='')
        return 0
    except BaseException:
        import traceback
        emit(event='result', id=module, status='fail', reason='import failed',
             detail=traceback.format_exc())
        return 1
    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    result = Result()
    suite.run(result)
    return 0 if result.wasSuccessful() else 1


# --- the parent: environment, timeouts, TAP --------------------------------

class Tap:
    def __init__(self):
        self.n = 0
        self.counts = dict.fromkeys(['pass', 'fail', 'xfail', 'xpass', 'skip'], 0)

    def line(self, status, name, reason='', detail=''):
        self.n += 1
        self.counts[status] += 1
        name = name.replace('#', '_')
        reason = ' '.join(str(reason).split())
        if status == 'pass':
            s = 'ok %d %s' % (self.n, name)
        elif status == 'skip':
            s = 'ok %d %s # SKIP %s' % (self.n, name, reason)
        elif status == 'xfail':
            s = 'ok %d %s # XFAIL expected failure' % (self.n, name)
        elif status == 'xpass':
            s = 'not ok %d %s # XPASS unexpected success' % (self.n, name)
        else:
            s = 'not ok %d %s%s' % (self.n, name, ' # ' + reason if reason else '')
        print(s)
        comment(detail)
        sys.stdout.flush()

    def totals(self):
        c = self.counts
        print('1..%d' % self.n)
        print('# Totals: pass:%d fail:%d xfail:%d xpass:%d skip:%d error:0'
              % (c['pass'], c['fail'], c['xfail'], c['xpass'], c['skip']))
        sys.stdout.flush()


def comment(text):
    for ln in str(text).rstrip('\n').splitlines():
        print('# ' + ln if ln else '#')


def set_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def our_children():
    """(pid, argv) of every live process whose parent is this one."""
    me = os.getpid()
    found = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d, 'rb') as f:
                stat = f.read().decode('ascii', 'replace')
            # "pid (comm) state ppid ...": comm may hold anything but its last ')'
            fields = stat[stat.rindex(')') + 2:].split()
            if int(fields[1]) != me or fields[0] == 'Z':
                continue
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                argv = f.read().split(b'\0')[:-1]
            found.append((int(d), [a.decode('utf-8', 'replace') for a in argv]))
        except (OSError, ValueError, IndexError):
            continue
    return found


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def stop_leftovers(settle=1.0, grace=5.0):
    """Stop what the module left running, now our children (we are their
    subreaper): trackerd at once with SIGTERM; anything else after
    @settle seconds to leave by itself (multiprocessing's forkserver and
    resource tracker exit once their parent is gone), with a word, as it
    should not be there.  SIGKILL for what is still there @grace seconds
    later."""
    told = set()
    start = time.monotonic()
    while True:
        reap()
        kids = our_children()
        if not kids:
            return
        now = time.monotonic() - start
        for pid, argv in kids:
            trackerd = bool(argv) and os.path.basename(argv[0]) == 'trackerd'
            if now >= settle + grace:
                sig = signal.SIGKILL
            elif trackerd or now >= settle:
                sig = signal.SIGTERM
            else:
                continue
            if (pid, sig) in told:
                continue
            told.add((pid, sig))
            if not trackerd or sig == signal.SIGKILL:
                comment('%s %s (pid %d): %s'
                        % ('stopping' if sig == signal.SIGTERM else 'killing',
                           'trackerd' if trackerd else 'a process the tests left behind',
                           pid, ' '.join(argv)[:200]))
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


def module_env(tmp, package):
    env = dict(os.environ)
    for k in ('SEALSHM_NO_AUTOSTART', 'SEALSHM_TRACKERD', 'SEALSHM_SESSION', 'PYTHONHOME',
              'PYTHONSTARTUP', 'PYTHONINSPECT'):
        env.pop(k, None)
    env['PYTHONPATH'] = os.pathsep.join([package, HERE])
    env['PYTHONDONTWRITEBYTECODE'] = '1'    # no __pycache__ in the source tree
    env['SEALSHM_SOCKET'] = os.path.join(tmp, 'trackerd.sock')
    env['XDG_RUNTIME_DIR'] = tmp
    env['TMPDIR'] = tmp
    env['SEALSHM_TEST_PACKAGE'] = package
    if env.get('SEALSHM_TEST_SANITIZE') == '1':
        rt = env.get('SEALSHM_TEST_ASAN_RUNTIME') or subprocess.run(
            [env.get('CC', 'cc'), '-print-file-name=libasan.so'],
            stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
        env['LD_PRELOAD'] = ' '.join(p for p in (rt, env.get('LD_PRELOAD', '')) if p)
        env['ASAN_OPTIONS'] = ':'.join(p for p in (env.get('ASAN_OPTIONS', ''),
                                                   'detect_leaks=0') if p)
    return env


def run_module(tap, module, package, timeout):
    tmp = tempfile.mkdtemp(prefix='sealshm-py.')
    report = os.path.join(tmp, 'report.jsonl')
    log = os.path.join(tmp, 'output.log')
    why = ''
    t0 = time.monotonic()
    try:
        with open(log, 'wb') as logf:
            p = subprocess.Popen([sys.executable, os.path.abspath(__file__), '--child', module,
                                  '--report', report],
                                 cwd=tmp, env=module_env(tmp, package), stdin=subprocess.DEVNULL,
                                 stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
                                 close_fds=True)
            try:
                rc = p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                why = 'timed out after %ds' % timeout
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                rc = p.wait()
        secs = time.monotonic() - t0
        stop_leftovers()

        with open(log, 'rb') as f:
            output = f.read().decode('utf-8', 'replace')
        if output.strip():
            comment('%s: output:' % module)
            comment(output)

        records = []
        if os.path.exists(report):
            with open(report) as f:
                for ln in f:
                    try:
                        records.append(json.loads(ln))
                    except ValueError:
                        pass   # a line cut short by a kill
        if not why and rc < 0:
            why = 'interpreter died of signal %d' % -rc
        elif not why and rc not in (0, 1):
            why = 'interpreter exited %d' % rc

        started, ran = [], set()
        for r in records:
            if r['event'] == 'start':
                started.append(r['id'])
            else:
                ran.add(r['id'])
                tap.line(r['status'], r['id'], r.get('reason', ''), r.get('detail', ''))
        hung = [t for t in started if t not in ran]
        for t in hung:
            tap.line('fail', t, why or 'never finished')
        if why and not hung:
            tap.line('fail', module, why)
        elif not why and not records:
            tap.line('skip', module, 'no tests in this module')
        comment('%s: %.1f s' % (module, secs))
        if why or any(r.get('status') in ('fail', 'xpass') for r in records):
            tlog = env_sock_log(tmp)
            if tlog:
                comment('%s: trackerd log (end):' % module)
                comment(tlog)
    finally:
        stop_leftovers()
        shutil.rmtree(tmp, ignore_errors=True)


def env_sock_log(tmp):
    try:
        with open(os.path.join(tmp, 'trackerd.sock.log'), 'rb') as f:
            lines = f.read().decode('utf-8', 'replace').splitlines()
        return '\n'.join(lines[-40:])
    except OSError:
        return ''


def parent_main(args):
    modules = args.modules or sorted(f[:-3] for f in os.listdir(HERE)
                                     if f.startswith('test_') and f.endswith('.py'))
    modules = [m[:-3] if m.endswith('.py') else m for m in modules]
    package = os.path.abspath(args.package)
    tap = Tap()
    print('TAP version 13')
    comment('python %s (%s); package %s' % (sys.version.split()[0], sys.executable, package))
    if not os.path.isfile(os.path.join(package, 'sealshm', '__init__.py')):
        for m in modules:
            tap.line('fail', m, 'no package at %s/sealshm (make builds it)' % package)
        tap.totals()
        return 1
    if not set_subreaper():
        comment('cannot become a child subreaper: a daemonized trackerd may outlive the run')
    for m in modules:
        if not os.path.isfile(os.path.join(HERE, m + '.py')):
            tap.line('fail', m, 'no such test module in %s' % HERE)
            continue
        run_module(tap, m, package, args.timeout)
    tap.totals()
    c = tap.counts
    if c['fail'] or c['xpass']:
        return 1
    return 4 if tap.n and c['skip'] == tap.n else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--package', default=os.path.join(TOP, 'build', 'python'))
    ap.add_argument('--timeout', type=int, default=DEFAULT_TIMEOUT)
    ap.add_argument('--child', help=argparse.SUPPRESS)
    ap.add_argument('--report', help=argparse.SUPPRESS)
    ap.add_argument('modules', nargs='*')
    args = ap.parse_args()
    if args.child:
        return child_main(args.child, args.report)
    return parent_main(args)


if __name__ == '__main__':
    sys.exit(main())
