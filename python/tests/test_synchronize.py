# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm.synchronize against CPython's documented behaviour of
multiprocessing's Lock, RLock, Semaphore, BoundedSemaphore, Condition,
Event and Barrier (what CPython's _test_multiprocessing checks of them),
with processes that multiprocessing starts with fork, spawn and forkserver;
and what CPython lacks: a holder or a party killed with SIGKILL, Ctrl-C
during a wait, names that do not outlive their family.

Every wait here has a timeout: a hang is a failure, not a stuck run."""

import gc
import os
import pickle
import signal
import struct
import sys
import threading
import time
import unittest
import warnings

import multiprocessing

import sealshm
from sealshm import shared_memory, synchronize
from sealshm.synchronize import (Barrier, BoundedSemaphore, Condition, Event, Lock,
                                 OwnerDiedWarning, RLock, Semaphore)

from _support import (TIMEOUT, check_killed_family, exists, gone, join, run_python, start,
                      wait_until)

METHODS = ('fork', 'spawn', 'forkserver')
BrokenBarrierError = threading.BrokenBarrierError

# Short timeouts that must expire (CPython's tests use 0.1 s too).
SHORT = 0.1


class Timed:
    """Calls @func and keeps how long the call took."""

    def __init__(self, func):
        self.func = func
        self.elapsed = None

    def __call__(self, *args, **kwargs):
        t = time.monotonic()
        try:
            return self.func(*args, **kwargs)
        finally:
            self.elapsed = time.monotonic() - t


class Counter:
    """An int64 in a segment of its own, shared with children by name."""

    def __init__(self, name=None):
        if name is None:
            self.shm = shared_memory.SharedMemory(create=True, size=8)
        else:
            self.shm = shared_memory.SharedMemory(name)
        self.view = self.shm.buf.cast('q')

    def __reduce__(self):
        return (Counter, (self.shm.name,))

    @property
    def value(self):
        return self.view[0]

    def bump(self):
        # Read, let others run, write: without mutual exclusion, updates
        # get lost (so a test that counts can fail).
        v = self.view[0]
        time.sleep(0)
        self.view[0] = v + 1

    def close(self, unlink=False):
        self.view.release()
        if unlink:
            self.shm.unlink()
        self.shm.close()


# --- what children run (module level: spawn and forkserver import them) ---

def child_count(lock, counter, n, nested):
    for _ in range(n):
        with lock:
            if nested:
                with lock:
                    counter.bump()
            else:
                counter.bump()
    counter.close()


def child_hold_and_wait(lock, conn, times):
    for _ in range(times):
        if not lock.acquire(timeout=TIMEOUT):
            os._exit(3)
    conn.send('held')
    time.sleep(TIMEOUT)     # killed before that
    os._exit(4)


def child_try(lock, conn):
    conn.send(lock.acquire(False))


def child_use(lock):
    with lock:
        pass


def child_release(lock, conn):
    try:
        lock.release()
        conn.send('released')
    except Exception as e:
        conn.send(type(e).__name__)


def child_churn(lock, counter, seconds):
    # Take and give back the lock until time is up or this process is
    # killed; a dead holder's lock is taken over silently.  Exit 3 when an
    # acquire waits as long as a test may: that is a hang.
    warnings.simplefilter('ignore', OwnerDiedWarning)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not lock.acquire(timeout=TIMEOUT):
            os._exit(3)
        counter.bump()
        lock.release()
    counter.close()


def child_event_wait(event, ready, timeout):
    ready.release()
    sys.exit(0 if event.wait(timeout) else 1)


def child_event_set(event, delay):
    time.sleep(delay)
    event.set()


def child_cond_wait(cond, sleeping, woken, timeout=None, done=None):
    with cond:
        sleeping.release()
        cond.wait(timeout)
        woken.release()
    if done is not None:
        # Stay until the test ends: an exit is a death, which wakes the
        # library's sleepers (they sleep on again; see test_notify_n_...),
        # and the counts are the waiters' alone.
        done.wait(TIMEOUT)


def child_cond_notify_and_interrupt(cond, pid):
    with cond:
        cond.notify()
    time.sleep(1)
    os.kill(pid, signal.SIGINT)


def child_wait_for(cond, counter):
    with cond:
        counter.view[0] = 0
        cond.notify()
        ok = cond.wait_for(lambda: counter.view[0] == 4, TIMEOUT)
    counter.close()
    sys.exit(0 if ok and ok is True else 1)


def child_barrier_indices(barrier, passes, conn):
    indices = []
    try:
        for _ in range(passes):
            indices.append(barrier.wait(TIMEOUT))
    except BrokenBarrierError:
        indices.append('broken')
    conn.send(indices)


def child_barrier_wait(barrier, conn):
    conn.send('arriving')
    try:
        barrier.wait(TIMEOUT)
        conn.send('passed')
    except BrokenBarrierError:
        conn.send('broken')


def child_send_name(obj, conn):
    conn.send((type(obj).__name__, obj.name))


# --- Lock -----------------------------------------------------------------


class LockTest(unittest.TestCase):

    def test_lock(self):
        # CPython's test_lock.
        lock = Lock()
        self.assertIs(lock.acquire(), True)
        self.assertIs(lock.acquire(False), False)
        self.assertIsNone(lock.release())
        with self.assertRaisesRegex(ValueError, 'semaphore or lock released too many times'):
            lock.release()

    def test_module_functions(self):
        # sealshm.Lock() and friends are multiprocessing's functions.
        self.assertIsInstance(sealshm.Lock(), Lock)
        self.assertIsInstance(sealshm.RLock(), RLock)
        self.assertIsInstance(sealshm.Semaphore(), Semaphore)
        self.assertIsInstance(sealshm.BoundedSemaphore(), BoundedSemaphore)
        self.assertIsInstance(sealshm.Event(), Event)
        self.assertIsInstance(sealshm.Condition(), Condition)
        self.assertIsInstance(sealshm.Barrier(2), Barrier)
        self.assertEqual(sealshm.Semaphore(3).get_value(), 3)
        self.assertEqual(sealshm.BoundedSemaphore(2).maxvalue, 2)
        b = sealshm.Barrier(2, None, 5.0)
        self.assertEqual((b.parties, b._timeout), (2, 5.0))
        self.assertTrue(issubclass(sealshm.OwnerDiedWarning, RuntimeWarning))
        self.assertIs(sealshm.OwnerDiedWarning, OwnerDiedWarning)
        for name in ('Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Condition', 'Event',
                     'Barrier', 'OwnerDiedWarning', 'synchronize'):
            self.assertIn(name, sealshm.__all__)
        for name in synchronize.__all__:
            self.assertTrue(getattr(synchronize, name).__doc__, name)

    def test_docs(self):
        ext = sealshm._sealshm
        for cls in (ext.Lock, ext.RLock, ext.Semaphore, ext.Event, ext.Condition, ext.Barrier,
                    Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier):
            self.assertTrue(cls.__doc__, cls)
            for name in dir(cls):
                if not name.startswith('__') and name not in ('_lock', '_action', '_timeout',
                                                             'acquire', 'release'):
                    self.assertTrue(getattr(cls, name).__doc__, '%s.%s' % (cls.__name__, name))
        self.assertTrue(synchronize.__doc__)
        self.assertTrue(OwnerDiedWarning.__doc__)

    def test_context_manager(self):
        lock = Lock()
        with lock as got:
            self.assertIs(got, True)
            self.assertIs(lock.acquire(False), False)
        self.assertIs(lock.acquire(False), True)
        lock.release()

    def test_timeouts(self):
        # CPython's test_timeout of semaphores, for a held lock.
        lock = Lock()
        lock.acquire()
        acquire = Timed(lock.acquire)
        self.assertIs(acquire(False), False)
        self.assertIs(acquire(False, None), False)
        self.assertIs(acquire(False, TIMEOUT), False)     # not blocking: no wait
        self.assertLess(acquire.elapsed, TIMEOUT / 2)
        self.assertIs(acquire(True, SHORT), False)
        self.assertGreaterEqual(acquire.elapsed, SHORT * 0.9)
        self.assertIs(acquire(timeout=SHORT), False)
        self.assertGreaterEqual(acquire.elapsed, SHORT * 0.9)
        self.assertIs(acquire(block=True, timeout=0), False)
        self.assertIs(acquire(timeout=-1), False)         # CPython: as 0
        lock.release()
        self.assertIs(lock.acquire(timeout=-1), True)     # free: taken at once
        lock.release()

    def test_argument_errors(self):
        lock = Lock()
        with self.assertRaises(TypeError):
            lock.acquire(True, 'soon')
        with self.assertRaises(TypeError):
            lock.acquire(blocking=True)
        with self.assertRaises(TypeError):
            lock.acquire(True, 1, 2)
        with self.assertRaises(TypeError):
            lock.acquire(True, block=True)
        with self.assertRaisesRegex(ValueError, 'NaN'):
            lock.acquire(timeout=float('nan'))
        self.assertIs(lock.acquire(True, timeout=1e300), True)   # as good as none
        lock.release()
        with self.assertRaises(TypeError):
            Lock(1)

    def test_another_thread_of_the_holder_waits_and_may_release(self):
        # As CPython's: the lock is the process's, not a thread's.
        lock = Lock()
        lock.acquire()
        got = []
        t = threading.Thread(target=lambda: got.append(lock.acquire(timeout=SHORT)))
        t.start()
        t.join(TIMEOUT)
        self.assertEqual(got, [False])
        t = threading.Thread(target=lock.release)
        t.start()
        t.join(TIMEOUT)
        self.assertIs(lock.acquire(False), True)
        lock.release()

    def test_wait_releases_the_gil(self):
        # A thread blocked in acquire() lets this one run; a release wakes it.
        lock = Lock()
        lock.acquire()
        got = []
        t = threading.Thread(target=lambda: got.append(lock.acquire(timeout=TIMEOUT)))
        t.start()
        spins = 0
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            spins += 1
        self.assertGreater(spins, 1000)
        self.assertEqual(got, [])
        lock.release()
        t.join(TIMEOUT)
        self.assertEqual(got, [True])
        self.assertFalse(t.is_alive())
        lock.release()

    def test_repr(self):
        lock = Lock()
        self.assertEqual(repr(lock), '<Lock(owner=None)>')
        lock.acquire()
        self.assertEqual(repr(lock), '<Lock(owner=MainProcess)>')
        reprs = []
        t = threading.Thread(target=lambda: reprs.append(repr(lock)), name='T')
        t.start()
        t.join(TIMEOUT)
        self.assertEqual(reprs, ['<Lock(owner=SomeOtherThread)>'])
        lock.release()

    def test_pickled_copy_is_the_same_lock(self):
        lock = Lock()
        copy = pickle.loads(pickle.dumps(lock))
        self.assertIsInstance(copy, Lock)
        self.assertEqual(copy.name, lock.name)
        self.assertTrue(lock.created)
        self.assertFalse(copy.created)
        self.assertIs(copy.acquire(), True)
        self.assertIs(lock.acquire(False), False)
        copy.release()
        self.assertIs(lock.acquire(False), True)
        lock.release()

    def test_attach_refuses_another_type(self):
        lock = Lock()
        with self.assertRaises(ValueError):
            synchronize._rebuild(sealshm._sealshm.RLock, RLock, lock.name, None)
        shm = shared_memory.SharedMemory(create=True, size=64)
        try:
            with self.assertRaises(ValueError):
                synchronize._rebuild(sealshm._sealshm.Lock, Lock, shm.name, None)
        finally:
            shm.unlink()
            shm.close()
        with self.assertRaises(FileNotFoundError):
            synchronize._rebuild(sealshm._sealshm.Lock, Lock, 'no_such_lock_here', None)

    def test_name_goes_when_the_creator_is_collected(self):
        lock = Lock()
        name = lock.name
        self.assertTrue(exists(name))
        copy = pickle.loads(pickle.dumps(lock))
        del copy
        gc.collect()
        self.assertTrue(exists(name), 'an attached copy leaves the name alone')
        del lock
        gc.collect()
        self.assertTrue(gone(name))

    def test_close(self):
        lock = Lock()
        lock.close()
        lock.close()
        self.assertTrue(lock.closed)
        with self.assertRaisesRegex(ValueError, 'closed Lock'):
            lock.acquire()
        with self.assertRaisesRegex(ValueError, 'closed Lock'):
            lock.release()

    def test_close_while_another_thread_waits(self):
        # The handle stays until the wait returns, which then works.
        lock = Lock()
        other = pickle.loads(pickle.dumps(lock))
        lock.acquire()
        got = []
        t = threading.Thread(target=lambda: got.append(other.acquire(timeout=TIMEOUT)))
        t.start()
        self.assertTrue(wait_until(lambda: lock.info()['waiters'] > 0))
        other.close()
        self.assertTrue(other.closed)
        with self.assertRaises(ValueError):
            other.acquire(False)
        lock.release()
        t.join(TIMEOUT)
        self.assertEqual(got, [True])
        self.assertIs(lock.acquire(timeout=SHORT), False, 'the closed handle holds it')

    def test_release_by_another_process(self):
        # A Lock is its holder process's: another one may not release it.
        lock = Lock()
        ctx = multiprocessing.get_context('fork')
        a, b = ctx.Pipe()
        lock.acquire()
        p = start(ctx, child_release, lock, b)
        self.assertTrue(a.poll(TIMEOUT))
        self.assertEqual(a.recv(), 'PermissionError')
        join(p)
        lock.release()
        p = start(ctx, child_release, lock, b)
        self.assertTrue(a.poll(TIMEOUT))
        self.assertEqual(a.recv(), 'ValueError')
        join(p)


class RLockTest(unittest.TestCase):

    def test_rlock(self):
        # CPython's test_rlock.
        lock = RLock()
        for _ in range(3):
            self.assertIs(lock.acquire(), True)
        for _ in range(3):
            self.assertIsNone(lock.release())
        with self.assertRaisesRegex(AssertionError, 'not owned by thread'):
            lock.release()

    def test_other_thread(self):
        lock = RLock()
        lock.acquire()
        got = []

        def other():
            got.append(lock.acquire(timeout=SHORT))
            try:
                lock.release()
            except AssertionError:
                got.append('AssertionError')

        t = threading.Thread(target=other)
        t.start()
        t.join(TIMEOUT)
        self.assertEqual(got, [False, 'AssertionError'])
        lock.release()
        t = threading.Thread(target=lambda: got.append(lock.acquire(timeout=TIMEOUT)))
        t.start()
        t.join(TIMEOUT)
        self.assertEqual(got[-1], True)
        self.assertIs(lock.acquire(False), False, 'held by the thread that ended')

    def test_repr(self):
        lock = RLock()
        self.assertEqual(repr(lock), '<RLock(None, 0)>')
        lock.acquire()
        lock.acquire()
        self.assertEqual(repr(lock), '<RLock(MainProcess, 2)>')
        reprs = []
        t = threading.Thread(target=lambda: reprs.append(repr(lock)))
        t.start()
        t.join(TIMEOUT)
        self.assertEqual(reprs, ['<RLock(SomeOtherThread, nonzero)>'])
        lock.release()
        lock.release()

    def test_context_manager_nests(self):
        lock = RLock()
        with lock:
            with lock:
                self.assertEqual(lock._count(), 2)
        self.assertEqual(lock._count(), 0)
        self.assertIs(lock.acquire(False), True)
        lock.release()


# --- processes: fork, spawn, forkserver -----------------------------------


class ProcessesTest(unittest.TestCase):
    """The objects as arguments of processes started with each method."""

    N = 3           # children
    ROUNDS = 300    # increments each

    def count_with(self, make_lock, nested=False):
        for method in METHODS:
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                lock = make_lock()
                counter = Counter()
                try:
                    ps = [start(ctx, child_count, lock, counter, self.ROUNDS, nested)
                          for _ in range(self.N)]
                    for p in ps:
                        self.assertEqual(join(p), 0)
                    self.assertEqual(counter.value, self.N * self.ROUNDS)
                finally:
                    counter.close(unlink=True)

    def test_counter_under_lock(self):
        self.count_with(Lock)

    def test_counter_under_rlock_nested(self):
        self.count_with(RLock, nested=True)

    def test_counter_under_semaphore(self):
        self.count_with(lambda: Semaphore(1))

    def test_counter_under_bounded_semaphore(self):
        self.count_with(lambda: BoundedSemaphore(1))

    def test_child_sees_the_lock_held(self):
        for method in METHODS:
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                a, b = ctx.Pipe()
                lock = Lock()
                lock.acquire()
                p = start(ctx, child_try, lock, b)
                self.assertTrue(a.poll(TIMEOUT))
                self.assertIs(a.recv(), False)
                join(p)
                lock.release()

    def test_objects_travel_through_a_queue_to_a_pool(self):
        # CPython refuses that (RuntimeError: only through inheritance);
        # a sealshm object is a reference, pickled anywhere.
        objs = [Lock(), RLock(), Semaphore(2), BoundedSemaphore(2), Event(), Condition(),
                Barrier(2)]
        ctx = multiprocessing.get_context('spawn')
        a, b = ctx.Pipe()
        with ctx.Pool(1) as pool:
            for obj in objs:
                pool.apply_async(child_send_name, (obj, b)).get(TIMEOUT)
                self.assertTrue(a.poll(TIMEOUT))
                self.assertEqual(a.recv(), (type(obj).__name__, obj.name))

    def test_independent_program_attaches_a_pickled_lock(self):
        lock = Lock()
        lock.acquire()
        r = run_python('import pickle, sys\n'
                       'lock = pickle.loads(bytes.fromhex(sys.argv[1]))\n'
                       'print(lock.acquire(timeout=0.05), lock.name)\n',
                       pickle.dumps(lock).hex())
        self.assertEqual(r.stdout.split(), ['False', lock.name])
        lock.release()


# --- owner death ---------------------------------------------------------------


def kill_holder(test, ctx, lock, times=1):
    """Start a child that acquires @lock (@times) and is killed holding it."""
    a, b = ctx.Pipe()
    p = start(ctx, child_hold_and_wait, lock, b, times)
    test.assertTrue(a.poll(TIMEOUT), 'the child never held the lock')
    test.assertEqual(a.recv(), 'held')
    os.kill(p.pid, signal.SIGKILL)
    p.join(TIMEOUT)
    test.assertEqual(p.exitcode, -signal.SIGKILL)


class OwnerDeathTest(unittest.TestCase):

    def inherit(self, lock):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            got = Timed(lock.acquire)(timeout=TIMEOUT)
        self.assertIs(got, True)
        died = [x for x in w if issubclass(x.category, OwnerDiedWarning)]
        self.assertEqual(len(died), 1, [str(x.message) for x in w])
        self.assertIn('died', str(died[0].message))
        self.assertTrue(lock.owner_died)

    def test_acquire_inherits_a_killed_holders_lock(self):
        for method in METHODS:
            for cls in (Lock, RLock):
                with self.subTest(method=method, cls=cls.__name__):
                    ctx = multiprocessing.get_context(method)
                    lock = cls()
                    kill_holder(self, ctx, lock, times=2 if cls is RLock else 1)
                    self.inherit(lock)
                    self.assertFalse(lock.info()['owner_died'], 'marked consistent')
                    if cls is RLock:
                        lock.acquire()
                        lock.release()
                        self.assertTrue(lock.owner_died, 'until the release that frees it')
                    lock.release()
                    self.assertFalse(lock.owner_died)
                    with warnings.catch_warnings():
                        warnings.simplefilter('error')
                        self.assertIs(lock.acquire(timeout=TIMEOUT), True)
                    self.assertFalse(lock.owner_died)
                    lock.release()

    def test_a_waiter_gets_the_lock_when_its_holder_dies(self):
        # Blocked before the kill: the death wakes it.
        ctx = multiprocessing.get_context('fork')
        lock = Lock()
        a, b = ctx.Pipe()
        p = start(ctx, child_hold_and_wait, lock, b, 1)
        self.assertTrue(a.poll(TIMEOUT))
        a.recv()
        got = []

        def waiter():
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                got.append(lock.acquire(timeout=TIMEOUT))
                got.append([x.category for x in w])

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(SHORT)
        self.assertEqual(got, [])
        os.kill(p.pid, signal.SIGKILL)
        t.join(TIMEOUT)
        p.join(TIMEOUT)
        self.assertEqual(got, [True, [OwnerDiedWarning]])
        lock.release()

    def test_holders_killed_at_random_moments(self):
        # Contending processes, one killed at a random moment again and
        # again (inside acquire, holding the lock, inside release): the
        # others never hang, and the lock works afterwards.
        import random
        ctx = multiprocessing.get_context('fork')
        for cls in (Lock, RLock):
            with self.subTest(cls=cls.__name__):
                lock, counter = cls(), Counter()
                self.addCleanup(counter.close, True)
                procs = [start(ctx, child_churn, lock, counter, 30) for _ in range(3)]
                for _ in range(15):
                    time.sleep(random.uniform(0, 0.02))
                    victim = procs.pop(random.randrange(len(procs)))
                    victim.kill()
                    victim.join(TIMEOUT)
                    self.assertEqual(victim.exitcode, -signal.SIGKILL)
                    procs.append(start(ctx, child_churn, lock, counter, 30))
                last = start(ctx, child_churn, lock, counter, 0.3)
                for p in procs:
                    p.kill()
                    p.join(TIMEOUT)
                self.assertEqual(join(last), 0, 'the last one hung or failed')
                self.assertGreater(counter.value, 0)
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore', OwnerDiedWarning)
                    self.assertIs(lock.acquire(timeout=TIMEOUT), True)
                lock.release()
                self.assertIs(lock.acquire(False), True)
                lock.release()

    def test_warning_as_error_raises_and_leaves_the_lock_free(self):
        ctx = multiprocessing.get_context('fork')
        lock = Lock()
        kill_holder(self, ctx, lock)
        with warnings.catch_warnings():
            warnings.simplefilter('error', OwnerDiedWarning)
            with self.assertRaises(OwnerDiedWarning):
                lock.acquire(timeout=TIMEOUT)
        self.assertFalse(lock.owner_died)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            self.assertIs(lock.acquire(False), True)
        lock.release()

    def test_with_statement_inherits(self):
        ctx = multiprocessing.get_context('fork')
        lock = RLock()
        kill_holder(self, ctx, lock)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            with lock:
                self.assertTrue(lock.owner_died)
        self.assertEqual([x.category for x in w], [OwnerDiedWarning])
        self.assertFalse(lock.owner_died)

    def test_condition_wait_inherits_its_lock(self):
        # While this process waits on the condition, a child takes the
        # lock and is killed holding it: the wait returns with the lock,
        # warned.
        ctx = multiprocessing.get_context('fork')
        cond = Condition(Lock())
        a, b = ctx.Pipe()

        def kill_when_held(p):
            if a.poll(TIMEOUT) and a.recv() == 'held':
                os.kill(p.pid, signal.SIGKILL)

        with cond:
            p = start(ctx, child_hold_and_wait, cond.lock, b, 1)
            killer = threading.Thread(target=kill_when_held, args=(p,))
            killer.start()
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                # The child gets the lock once wait releases it; the wait
                # times out and takes it back from the dead child.
                self.assertIs(Timed(cond.wait)(SHORT), False)
            killer.join(TIMEOUT)
            p.join(TIMEOUT)
            self.assertEqual(p.exitcode, -signal.SIGKILL)
            self.assertEqual([x.category for x in w], [OwnerDiedWarning])
            self.assertTrue(cond.lock.owner_died)
            self.assertTrue(cond.lock._is_mine())
        self.assertFalse(cond.lock.owner_died)

    def test_a_dead_party_breaks_a_barrier(self):
        ctx = multiprocessing.get_context('fork')
        barrier = Barrier(3)
        a, b = ctx.Pipe()
        p = start(ctx, child_barrier_wait, barrier, b)
        self.assertTrue(a.poll(TIMEOUT))
        self.assertEqual(a.recv(), 'arriving')
        self.assertTrue(wait_until(lambda: barrier.n_waiting == 1))
        os.kill(p.pid, signal.SIGKILL)
        p.join(TIMEOUT)
        wait = Timed(barrier.wait)
        with self.assertRaises(BrokenBarrierError):
            wait(TIMEOUT * 3)
        self.assertLess(wait.elapsed, TIMEOUT, 'broken by the death, not by the timeout')
        self.assertTrue(barrier.broken)

    def test_a_party_dying_while_others_wait_breaks_it(self):
        ctx = multiprocessing.get_context('fork')
        barrier = Barrier(3)
        a, b = ctx.Pipe()
        c, d = ctx.Pipe()
        waiter = start(ctx, child_barrier_wait, barrier, b)
        victim = start(ctx, child_barrier_wait, barrier, d)
        for conn in (a, c):
            self.assertTrue(conn.poll(TIMEOUT))
            self.assertEqual(conn.recv(), 'arriving')
        self.assertTrue(wait_until(lambda: barrier.n_waiting == 2))
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(TIMEOUT)
        self.assertTrue(a.poll(TIMEOUT), 'the surviving party still waits')
        self.assertEqual(a.recv(), 'broken')
        join(waiter)


# --- signals -----------------------------------------------------------------


class SignalTest(unittest.TestCase):
    """Ctrl-C during a wait raises KeyboardInterrupt in the waiter; a signal
    handler that returns lets the wait go on to the same deadline."""

    def interrupt_after(self, delay):
        t = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
        t.start()
        self.addCleanup(t.cancel)
        return t

    def assertInterrupted(self, call, *args):
        self.interrupt_after(SHORT * 2)
        timed = Timed(call)
        with self.assertRaises(KeyboardInterrupt):
            timed(*args)
        self.assertLess(timed.elapsed, TIMEOUT / 2)

    def test_ctrl_c_during_lock_acquire(self):
        for cls in (Lock, RLock):
            with self.subTest(cls=cls.__name__):
                lock = cls()
                ctx = multiprocessing.get_context('fork')
                a, b = ctx.Pipe()
                p = start(ctx, child_hold_and_wait, lock, b, 1)
                self.assertTrue(a.poll(TIMEOUT))
                a.recv()
                self.assertInterrupted(lock.acquire, True, TIMEOUT)
                self.assertEqual(lock._count(), 0, 'not acquired')
                p.kill()
                p.join(TIMEOUT)

    def test_ctrl_c_during_lock_acquire_without_timeout(self):
        lock = Lock()
        lock.acquire()
        self.assertInterrupted(lock.acquire)
        lock.release()

    def test_ctrl_c_during_semaphore_event_and_barrier_waits(self):
        self.assertInterrupted(Semaphore(0).acquire, True, TIMEOUT)
        self.assertInterrupted(Event().wait, TIMEOUT)
        barrier = Barrier(2)
        self.assertInterrupted(barrier.wait, TIMEOUT)
        # As CPython's: the party left, the barrier is not broken.
        self.assertEqual((barrier.n_waiting, barrier.broken), (0, False))

    def test_ctrl_c_during_condition_wait(self):
        # CPython's test_wait_result: notified once, then interrupted; the
        # lock is held again either way.
        cond = Condition()
        ctx = multiprocessing.get_context('fork')
        with cond:
            self.assertIs(cond.wait(0), False)
            self.assertIs(cond.wait(SHORT), False)
            p = start(ctx, child_cond_notify_and_interrupt, cond, os.getpid())
            self.assertIs(cond.wait(TIMEOUT), True)
            with self.assertRaises(KeyboardInterrupt):
                cond.wait(TIMEOUT)
            self.assertTrue(cond.lock._is_mine())
        join(p)

    def test_handler_that_returns_keeps_the_deadline(self):
        # Signals every 0.1 s for 3 s against a 0.5 s timeout: a wait that
        # restarted its timeout at each signal would outlast them.
        hits = []
        old = signal.signal(signal.SIGUSR1, lambda *a: hits.append(1))
        self.addCleanup(signal.signal, signal.SIGUSR1, old)
        stop = threading.Event()

        def pester():
            end = time.monotonic() + 3
            while not stop.wait(0.1) and time.monotonic() < end:
                os.kill(os.getpid(), signal.SIGUSR1)

        t = threading.Thread(target=pester)
        t.start()
        try:
            lock = Lock()
            lock.acquire()
            for call in (lambda: lock.acquire(timeout=0.5),
                         lambda: Semaphore(0).acquire(timeout=0.5),
                         lambda: Event().wait(0.5)):
                timed = Timed(call)
                self.assertIs(timed(), False)
                self.assertGreaterEqual(timed.elapsed, 0.45)
                self.assertLess(timed.elapsed, 2.5)
        finally:
            stop.set()
            t.join(TIMEOUT)
        self.assertTrue(hits)


# --- Semaphore ----------------------------------------------------------------


class SemaphoreTest(unittest.TestCase):

    def check_two(self, sem):
        # CPython's _test_semaphore.
        self.assertEqual(sem.get_value(), 2)
        self.assertIs(sem.acquire(), True)
        self.assertEqual(sem.get_value(), 1)
        self.assertIs(sem.acquire(), True)
        self.assertEqual(sem.get_value(), 0)
        self.assertIs(sem.acquire(False), False)
        self.assertEqual(sem.get_value(), 0)
        self.assertIsNone(sem.release())
        self.assertEqual(sem.get_value(), 1)
        self.assertIsNone(sem.release())
        self.assertEqual(sem.get_value(), 2)

    def test_semaphore(self):
        sem = Semaphore(2)
        self.check_two(sem)
        sem.release()
        self.assertEqual(sem.get_value(), 3)
        sem.release()
        self.assertEqual(sem.get_value(), 4)
        self.assertEqual(Semaphore().get_value(), 1)

    def test_bounded_semaphore(self):
        sem = BoundedSemaphore(2)
        self.check_two(sem)
        with self.assertRaisesRegex(ValueError, 'semaphore or lock released too many times'):
            sem.release()
        self.assertEqual(sem.get_value(), 2)
        self.assertEqual(sem.maxvalue, 2)
        self.assertEqual(BoundedSemaphore().maxvalue, 1)

    def test_timeout(self):
        # CPython's test_timeout.
        sem = Semaphore(0)
        acquire = Timed(sem.acquire)
        self.assertIs(acquire(False), False)
        self.assertIs(acquire(False, None), False)
        self.assertIs(acquire(False, TIMEOUT), False)
        self.assertLess(acquire.elapsed, TIMEOUT / 2)
        self.assertIs(acquire(True, SHORT), False)
        self.assertGreaterEqual(acquire.elapsed, SHORT * 0.9)
        self.assertIs(acquire(timeout=SHORT), False)
        self.assertGreaterEqual(acquire.elapsed, SHORT * 0.9)

    def test_values(self):
        with self.assertRaises(ValueError):
            Semaphore(-1)
        with self.assertRaises(TypeError):
            Semaphore(1.5)
        with self.assertRaises(ValueError):
            Semaphore(2 ** 31)
        with self.assertRaises(ValueError):
            BoundedSemaphore(0)
        self.assertEqual(Semaphore(0).get_value(), 0)
        self.assertEqual(Semaphore(2 ** 31 - 1).get_value(), 2 ** 31 - 1)

    def test_unbounded_overflow_is_oserror(self):
        sem = Semaphore(2 ** 31 - 1)
        with self.assertRaises(OSError):
            sem.release()

    def test_repr(self):
        self.assertEqual(repr(Semaphore(3)), '<Semaphore(value=3)>')
        self.assertEqual(repr(BoundedSemaphore(2)), '<BoundedSemaphore(value=2, maxvalue=2)>')

    def test_context_manager(self):
        sem = Semaphore(1)
        with sem as got:
            self.assertIs(got, True)
            self.assertEqual(sem.get_value(), 0)
        self.assertEqual(sem.get_value(), 1)

    def test_release_wakes_a_waiting_process(self):
        ctx = multiprocessing.get_context('fork')
        sem = Semaphore(0)
        a, b = ctx.Pipe()
        p = start(ctx, child_try, sem, b)
        self.assertTrue(a.poll(TIMEOUT))
        self.assertIs(a.recv(), False)
        join(p)

    def test_robust_semaphore_gets_a_dead_holders_units_back(self):
        ctx = multiprocessing.get_context('fork')
        sem = Semaphore(2, robust=True)
        self.assertTrue(sem.info()['robust'])
        kill_holder(self, ctx, sem, times=2)
        self.assertTrue(wait_until(lambda: sem.get_value() == 2))
        plain = Semaphore(1)
        kill_holder(self, ctx, plain, times=1)
        self.assertIs(plain.acquire(timeout=SHORT), False, "CPython's meaning: lost")


# --- Event ----------------------------------------------------------------------


class EventTest(unittest.TestCase):

    def test_event(self):
        # CPython's test_event.
        event = Event()
        wait = Timed(event.wait)
        self.assertIs(event.is_set(), False)
        self.assertIs(wait(0.0), False)
        self.assertIs(wait(SHORT), False)
        self.assertGreaterEqual(wait.elapsed, SHORT * 0.9)
        event.set()
        self.assertIs(event.is_set(), True)
        self.assertIs(wait(), True)
        self.assertIs(wait(SHORT), True)
        self.assertLess(wait.elapsed, SHORT)
        event.clear()
        self.assertIs(event.is_set(), False)
        ctx = multiprocessing.get_context('fork')
        p = start(ctx, child_event_set, event, SHORT)
        self.assertIs(wait(TIMEOUT), True)
        join(p)

    def test_repr(self):
        event = Event()
        self.assertRegex(repr(event), r'^<Event at 0x[0-9a-f]+ unset>$')
        event.set()
        self.assertRegex(repr(event), r'^<Event at 0x[0-9a-f]+ set>$')
        event.clear()
        self.assertRegex(repr(event), r'^<Event at 0x[0-9a-f]+ unset>$')

    def test_set_wakes_waiters_in_other_processes(self):
        for method in METHODS:
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                event = Event()
                ready = Semaphore(0)
                ps = [start(ctx, child_event_wait, event, ready, TIMEOUT) for _ in range(3)]
                for _ in ps:
                    self.assertIs(ready.acquire(timeout=TIMEOUT), True)
                time.sleep(SHORT)
                self.assertEqual([p.exitcode for p in ps], [None] * 3, 'waiting')
                event.set()
                self.assertEqual([join(p) for p in ps], [0] * 3)

    def test_wait_times_out_in_a_child(self):
        ctx = multiprocessing.get_context('fork')
        event, ready = Event(), Semaphore(0)
        p = start(ctx, child_event_wait, event, ready, SHORT)
        self.assertEqual(join(p), 1)


# --- Condition ------------------------------------------------------------------


class ConditionTest(unittest.TestCase):

    def start_sleepers(self, cond, n_procs, n_threads, timeout=None):
        sleeping, woken, done = Semaphore(0), Semaphore(0), Event()
        ctx = multiprocessing.get_context('fork')
        for _ in range(n_procs):
            p = start(ctx, child_cond_wait, cond, sleeping, woken, timeout, done)
            self.addCleanup(join, p)
        for _ in range(n_threads):
            t = threading.Thread(target=child_cond_wait, args=(cond, sleeping, woken, timeout),
                                 daemon=True)
            t.start()
            self.addCleanup(t.join, TIMEOUT)
        self.addCleanup(done.set)
        self.addCleanup(self.wake_all, cond)    # first of the cleanups
        for _ in range(n_procs + n_threads):
            self.assertIs(sleeping.acquire(timeout=TIMEOUT), True)
        return woken

    @staticmethod
    def wake_all(cond):
        with cond:
            cond.notify_all()

    def settle(self, woken, value):
        """Wait until @woken reaches @value, then a moment more: it must
        not pass it."""
        self.assertTrue(wait_until(lambda: woken.get_value() >= value))
        time.sleep(SHORT)
        self.assertEqual(woken.get_value(), value)

    def test_notify(self):
        # CPython's test_notify: one process and one thread, woken one by one.
        cond = Condition()
        woken = self.start_sleepers(cond, 1, 1)
        self.settle(woken, 0)
        for n in (1, 2):
            with cond:
                cond.notify()
            self.settle(woken, n)

    def test_notify_all(self):
        # CPython's test_notify_all: six that time out, then six woken at once.
        cond = Condition()
        woken = self.start_sleepers(cond, 3, 3, SHORT)
        for _ in range(6):
            self.assertIs(woken.acquire(timeout=TIMEOUT), True)
        self.assertEqual(woken.get_value(), 0)
        woken = self.start_sleepers(cond, 3, 3)
        self.settle(woken, 0)
        with cond:
            cond.notify_all()
        self.settle(woken, 6)

    def test_notify_n(self):
        cond = Condition()
        woken = self.start_sleepers(cond, 3, 3)
        self.settle(woken, 0)
        with cond:
            cond.notify(n=2)
        self.settle(woken, 2)
        with cond:
            cond.notify(4)
        self.settle(woken, 6)
        with cond:
            cond.notify(3)
            cond.notify(0)
            cond.notify(-1)
        self.settle(woken, 6)

    def test_notify_n_unaffected_by_an_exiting_process(self):
        # notify(1) wakes one waiter, also when a process that used sealshm
        # objects exits meanwhile (CPython's Condition keeps that): the
        # library's sleepers also wake on such a death, find no wake-up
        # left for them, and sleep on.
        cond = Condition()
        woken = self.start_sleepers(cond, 0, 3)
        with cond:
            cond.notify()
        self.settle(woken, 1)
        p = start(multiprocessing.get_context('fork'), child_use, Lock())
        self.assertEqual(join(p), 0)
        self.settle(woken, 1)

    def test_timeout(self):
        cond = Condition()
        wait = Timed(cond.wait)
        with cond:
            self.assertIs(wait(SHORT), False)
        self.assertGreaterEqual(wait.elapsed, SHORT * 0.9)

    def test_wait_for(self):
        # CPython's test_waitfor, the state in a segment.
        cond = Condition()
        counter = Counter()
        counter.view[0] = -1
        ctx = multiprocessing.get_context('fork')
        p = start(ctx, child_wait_for, cond, counter)
        with cond:
            self.assertIs(cond.wait_for(lambda: counter.view[0] == 0, TIMEOUT), True)
        for _ in range(4):
            time.sleep(0.01)
            with cond:
                counter.view[0] += 1
                cond.notify()
        self.assertEqual(join(p), 0)
        counter.close(unlink=True)

    def test_wait_for_timeout(self):
        cond = Condition()
        with cond:
            wait_for = Timed(cond.wait_for)
            self.assertIs(wait_for(lambda: False, SHORT), False)
            self.assertGreaterEqual(wait_for.elapsed, SHORT * 0.9)
            self.assertEqual(cond.wait_for(lambda: 42, SHORT), 42)

    def test_un_acquired_lock(self):
        cond = Condition()
        with self.assertRaisesRegex(RuntimeError, 'cannot wait on un-acquired lock'):
            cond.wait(SHORT)
        with self.assertRaisesRegex(RuntimeError, 'cannot notify on un-acquired lock'):
            cond.notify()
        with self.assertRaisesRegex(RuntimeError, 'cannot notify on un-acquired lock'):
            cond.notify_all()

    def test_over_a_lock_and_an_rlock(self):
        for lock in (Lock(), RLock()):
            with self.subTest(lock=type(lock).__name__):
                cond = Condition(lock)
                self.assertIs(cond.lock, lock)
                self.assertIs(cond._lock, lock)
                with cond:
                    if isinstance(lock, RLock):
                        lock.acquire()
                    self.assertIs(cond.wait(SHORT), False)
                    self.assertTrue(lock._is_mine())
                    if isinstance(lock, RLock):
                        self.assertEqual(lock.info()['value'], 2, 'its count restored')
                        lock.release()
                self.assertIs(lock.acquire(False), True)
                lock.release()
        with self.assertRaises(TypeError):
            Condition(threading.Lock())

    def test_repr(self):
        cond = Condition(Lock())
        self.assertEqual(repr(cond), '<Condition(<Lock(owner=None)>, 0)>')

    def test_pickled_with_its_lock(self):
        cond = Condition(Lock())
        copy = pickle.loads(pickle.dumps(cond))
        self.assertEqual(copy.name, cond.name)
        self.assertEqual(copy.lock.name, cond.lock.name)
        with copy:
            self.assertIs(cond.acquire(False), False)


# --- Barrier ------------------------------------------------------------------


def multipass(barrier, counters, passes):
    """CPython's multipass: each party counts before and after each wait;
    no party passes a wait before every party counted."""
    before, after = counters
    m = barrier.parties
    for i in range(passes):
        with before[1]:
            before[0].view[0] += 1
        barrier.wait(TIMEOUT)
        if before[0].view[0] != (i + 1) * m:
            os._exit(5)
        with after[1]:
            after[0].view[0] += 1
        barrier.wait(TIMEOUT)
        if after[0].view[0] != (i + 1) * m:
            os._exit(6)
    if barrier.n_waiting != 0 or barrier.broken:
        os._exit(7)


def barrier_abort_party(barrier, results, n):
    try:
        i = barrier.wait(TIMEOUT)
        if i == n // 2:
            raise RuntimeError
        barrier.wait(TIMEOUT)
        bump(results, 0)
    except BrokenBarrierError:
        bump(results, 1)
    except RuntimeError:
        barrier.abort()


def barrier_reset_party(barrier, results, n):
    i = barrier.wait(TIMEOUT)
    if i == n // 2:
        end = time.monotonic() + TIMEOUT
        while barrier.n_waiting < n - 1 and time.monotonic() < end:
            time.sleep(0.001)
        barrier.reset()
    else:
        try:
            barrier.wait(TIMEOUT)
            bump(results, 0)
        except BrokenBarrierError:
            bump(results, 1)
    barrier.wait(TIMEOUT)
    bump(results, 2)


def barrier_timeout_party(barrier, results, n, timeout):
    i = barrier.wait(TIMEOUT)
    if i == n // 2:
        time.sleep(1.0)     # late
    try:
        barrier.wait(timeout)
    except BrokenBarrierError:
        bump(results, 0)


def barrier_action_party(barrier, results):
    barrier.wait(TIMEOUT)
    if results[0].view[0] != 1:
        os._exit(8)


class AppendOne:
    """An action: count in slot 0 of a counter (picklable)."""

    def __init__(self, counters):
        self.counters = counters

    def __call__(self):
        bump(self.counters, 0)


class Failing:
    def __call__(self):
        raise ZeroDivisionError('action failed')


def bump(results, slot):
    counter, lock = results
    with lock:
        counter.view[slot] += 1


class Slots:
    """Three counters in one segment, with a lock."""

    def __init__(self):
        shm = shared_memory.SharedMemory(create=True, size=24)
        self.counter = Counter.__new__(Counter)
        self.counter.shm = shm
        self.counter.view = shm.buf.cast('q')
        self.lock = Lock()

    def pair(self):
        return (self.counter, self.lock)

    def __getitem__(self, slot):
        return self.counter.view[slot]

    def close(self):
        self.counter.close(unlink=True)


class BarrierTest(unittest.TestCase):
    """CPython's _TestBarrier (threading's lock_tests), with N parties:
    N - 1 forked processes and this one."""

    N = 5

    def setUp(self):
        self.barrier = Barrier(self.N, timeout=TIMEOUT)

    def tearDown(self):
        self.barrier.abort()

    def run_parties(self, f, *args):
        ctx = multiprocessing.get_context('fork')
        ps = [start(ctx, f, *args) for _ in range(self.N - 1)]
        f(*args)
        for p in ps:
            self.assertEqual(join(p), 0)

    def slots(self):
        s = Slots()
        self.addCleanup(s.close)
        return s

    def test_barrier(self, passes=1):
        before, after = self.slots(), self.slots()
        self.run_parties(multipass, self.barrier, ((before.counter, before.lock),
                                                   (after.counter, after.lock)), passes)

    def test_barrier_10(self):
        self.test_barrier(10)

    def test_wait_return(self):
        # Every index 0 .. N - 1 once.
        ctx = multiprocessing.get_context('fork')
        conns = [ctx.Pipe() for _ in range(self.N - 1)]
        ps = [start(ctx, child_barrier_indices, self.barrier, 1, b) for _, b in conns]
        mine = self.barrier.wait()
        got = [mine]
        for a, _ in conns:
            self.assertTrue(a.poll(TIMEOUT))
            got += a.recv()
        for p in ps:
            join(p)
        self.assertEqual(sorted(got), list(range(self.N)))

    def test_action(self):
        s = self.slots()
        barrier = Barrier(self.N, action=AppendOne(s.pair()))
        self.run_parties(barrier_action_party, barrier, s.pair())
        self.assertEqual(s[0], 1)

    def test_failing_action_breaks_the_barrier(self):
        barrier = Barrier(2, action=Failing())
        ctx = multiprocessing.get_context('fork')
        a, b = ctx.Pipe()
        p = start(ctx, child_barrier_wait, barrier, b)
        self.assertTrue(a.poll(TIMEOUT))
        a.recv()
        self.assertTrue(wait_until(lambda: barrier.n_waiting == 1))
        with self.assertRaises(ZeroDivisionError):
            barrier.wait(TIMEOUT)
        self.assertTrue(a.poll(TIMEOUT))
        self.assertEqual(a.recv(), 'broken')
        self.assertTrue(barrier.broken)
        join(p)

    def test_abort(self):
        s = self.slots()
        self.run_parties(barrier_abort_party, self.barrier, s.pair(), self.N)
        self.assertEqual(s[0], 0)
        self.assertEqual(s[1], self.N - 1)
        self.assertTrue(self.barrier.broken)
        with self.assertRaises(BrokenBarrierError):
            self.barrier.wait(SHORT)

    def test_reset(self):
        s = self.slots()
        self.run_parties(barrier_reset_party, self.barrier, s.pair(), self.N)
        self.assertEqual((s[0], s[1], s[2]), (0, self.N - 1, self.N))

    def test_timeout(self):
        s = self.slots()
        self.run_parties(barrier_timeout_party, self.barrier, s.pair(), self.N, 0.5)
        self.assertEqual(s[0], self.N)

    def test_default_timeout(self):
        s = self.slots()
        barrier = Barrier(self.N, timeout=0.5)
        self.run_parties(barrier_timeout_party, barrier, s.pair(), self.N, None)
        self.assertEqual(s[0], self.N)

    def test_single_party(self):
        b = Barrier(1)
        self.assertEqual(b.wait(), 0)
        self.assertEqual(b.wait(), 0)

    def test_parties_checked(self):
        for bad in (0, -1, sealshm._sealshm.BARRIER_PARTIES_MAX + 1):
            with self.assertRaises(ValueError):
                Barrier(bad)
        with self.assertRaises(TypeError):
            Barrier(2.0)
        self.assertEqual(Barrier(sealshm._sealshm.BARRIER_PARTIES_MAX).parties,
                         sealshm._sealshm.BARRIER_PARTIES_MAX)

    def test_properties_and_repr(self):
        b = Barrier(3)
        self.assertEqual((b.parties, b.n_waiting, b.broken), (3, 0, False))
        self.assertRegex(repr(b), r'^<sealshm\.synchronize\.Barrier at 0x[0-9a-f]+: '
                                  r'waiters=0/3>$')
        b.abort()
        self.assertRegex(repr(b), r'^<sealshm\.synchronize\.Barrier at 0x[0-9a-f]+: broken>$')
        b.reset()
        self.assertFalse(b.broken)

    def test_parties_from_every_start_method(self):
        for method in METHODS:
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                barrier = Barrier(4)
                conns = [ctx.Pipe() for _ in range(3)]
                ps = [start(ctx, child_barrier_indices, barrier, 3, b) for _, b in conns]
                got = [[barrier.wait(TIMEOUT) for _ in range(3)]]
                for a, _ in conns:
                    self.assertTrue(a.poll(TIMEOUT))
                    got.append(a.recv())
                for p in ps:
                    join(p)
                for i in range(3):
                    self.assertEqual(sorted(g[i] for g in got), [0, 1, 2, 3])

    def test_pickled_with_action_and_timeout(self):
        b = Barrier(2, action=Failing(), timeout=7.5)
        copy = pickle.loads(pickle.dumps(b))
        self.assertEqual((copy.name, copy.parties, copy._timeout), (b.name, 2, 7.5))
        self.assertIsInstance(copy._action, Failing)


# --- names and families --------------------------------------------------------

FAMILY = '''
import multiprocessing, sys, time
import sealshm

def child(objs, conn):
    conn.send('ready')
    time.sleep(60)

if __name__ == '__main__':
    ctx = multiprocessing.get_context(sys.argv[1])
    objs = [sealshm.Lock(), sealshm.RLock(), sealshm.Semaphore(), sealshm.Event(),
            sealshm.Condition(), sealshm.Barrier(2)]
    a, b = ctx.Pipe()
    p = ctx.Process(target=child, args=(objs, b))
    p.start()
    a.poll(30)
    a.recv()
    print(' '.join(o.name for o in objs) + ' ' + objs[4].lock.name, flush=True)
    time.sleep(60)
'''


class NamesTest(unittest.TestCase):

    def test_killed_family_leaves_no_names(self):
        # kill -9 of the whole family (main process and its child): the
        # session takes every object's name with it.
        check_killed_family(self, FAMILY,
                            lambda names, line: self.assertEqual(len(names), 7, line))

    def test_every_object_unlinks_its_name_when_collected(self):
        for make in (Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition,
                     lambda: Barrier(2)):
            obj = make()
            names = [obj.name]
            if isinstance(obj, Condition):
                names.append(obj.lock.name)
            for n in names:
                self.assertTrue(exists(n))
            del obj
            gc.collect()
            for n in names:
                self.assertTrue(gone(n), n)

    def test_forked_child_leaves_the_name_to_its_parent(self):
        # The creator's handle, copied by fork and collected in the child:
        # the name stays (the creator is the parent).
        box = [Lock()]
        name = box[0].name
        ctx = multiprocessing.get_context('fork')
        p = start(ctx, _drop_and_collect, box)
        self.assertEqual(join(p), 0)
        self.assertTrue(exists(name))
        self.assertTrue(box[0].created)


def _drop_and_collect(box):
    # The only reference in the child (the test holds the list, not the lock).
    if box[0].created:
        os._exit(9)
    box.clear()
    gc.collect()


if __name__ == '__main__':
    unittest.main()
