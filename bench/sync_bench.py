# SPDX-License-Identifier: LGPL-2.1-or-later
"""sync_bench: sealshm's Lock, RLock, Semaphore, Event, Condition and
Barrier against CPython's multiprocessing ones (start method fork), in the
same run, alternating rounds so both see the same machine noise.  Ratios
are sealshm's time over CPython's: below 1 is faster.

    python3 bench/sync_bench.py [--rounds N]

Figures (median and 90th percentile over rounds):
  acquire+release   uncontended, one process, through bound methods (the
                    loop's floor included, as for CPython); and the `with`
                    form
  round trips       two processes, A wakes B and B wakes A: Semaphore
                    release/acquire; Event set -> wait+clear -> set back ->
                    wait+clear; Condition: a turn in shared memory under the
                    Condition, wait until it is ours, pass it, notify;
                    Barrier(2): two generations (each party wakes the other
                    once)

The partner is forked before each round and says when it is ready (its
first call on an object already made), so no start-up is timed.
"""

import argparse
import multiprocessing
import os
import signal
import statistics
import sys
import time

import _pybench                 # first: the bench's own trackerd, before sealshm

import sealshm

CP = multiprocessing.get_context('fork')
def maker(mod):
    """mk('Event'), mk('Semaphore', 0), ...: objects of @mod, sealshm or
    CPython's fork context."""
    return lambda name, *args: getattr(mod, name)(*args)


# --- uncontended ---------------------------------------------------------------------

def uncontended(make, n):
    lk = make()
    acq, rel = lk.acquire, lk.release
    t0 = time.perf_counter_ns()
    for _ in range(n):
        acq()
        rel()
    return (time.perf_counter_ns() - t0) / n


def uncontended_with(make, n):
    lk = make()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        with lk:
            pass
    return (time.perf_counter_ns() - t0) / n


# --- round trips -----------------------------------------------------------------------

def _timed_out(signum, frame):
    raise TimeoutError('no progress in 60 s')


def partner(active, passive, warm, n):
    """Fork a process that runs warm() then passive(n); after it is ready,
    time active(n) here.  Returns ns per round trip.  A round that hangs
    (a partner that died, a lost wake-up) ends in TimeoutError after 60 s,
    its partner killed."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            warm()
            os.write(w, b'r')
            passive(n)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    old = signal.signal(signal.SIGALRM, _timed_out)
    signal.alarm(60)
    ok = False
    try:
        if os.read(r, 1) != b'r':
            raise RuntimeError('the partner process failed to start')
        warm()
        t0 = time.perf_counter_ns()
        active(n)
        t = time.perf_counter_ns() - t0
        ok = True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        os.close(r)
        if not ok:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f'the partner process failed: status {status:#x}')
    return t / n


def rt_semaphore(mk, n):
    ping, pong = mk('Semaphore', 0), mk('Semaphore', 0)

    def a(n):
        for _ in range(n):
            ping.release()
            pong.acquire()

    def b(n):
        for _ in range(n):
            ping.acquire()
            pong.release()

    return partner(a, b, ping.get_value, n)


def rt_event(mk, n):
    e1, e2 = mk('Event'), mk('Event')

    def a(n):
        for _ in range(n):
            e1.set()
            e2.wait()
            e2.clear()

    def b(n):
        for _ in range(n):
            e1.wait()
            e1.clear()
            e2.set()
    return partner(a, b, e1.is_set, n)


def rt_condition(mk, n):
    cv = mk('Condition')
    turn = CP.RawValue('i', 0)      # the turn: plain shared memory for both

    def side(me):
        def run(n):
            for _ in range(n):
                with cv:
                    while turn.value != me:
                        cv.wait()
                    turn.value = 1 - me
                    cv.notify()
        return run

    def warm():
        with cv:
            pass
    return partner(side(0), side(1), warm, n)


def rt_barrier(mk, n):
    b = mk('Barrier', 2)

    def run(n):
        for _ in range(n):
            b.wait()
            b.wait()

    def warm():
        b.n_waiting
    return partner(run, run, warm, n)


# --- rows ------------------------------------------------------------------------------

def p90(v):
    v = sorted(v)
    return v[max(0, -(-len(v) * 90 // 100) - 1)]


def figure(what, run, rounds, scale, unit):
    """run(mod) -> one sample (ns) with sealshm's or CPython's objects;
    rounds alternate which goes first.  Prints a row; returns the ratio of
    medians, or 'FAILED' (sealshm's run raised: the row says why)."""
    s, c, failed = [], [], None
    for r in range(rounds):
        for mod in ((sealshm, CP) if r % 2 == 0 else (CP, sealshm)):
            if mod is CP:
                c.append(run(CP))
            elif failed is None:
                try:
                    s.append(run(sealshm))
                except Exception as e:          # noqa: BLE001 (reported)
                    failed = f'{type(e).__name__}: {e}'
    mc, pc = statistics.median(c) / scale, p90(c) / scale
    if failed:
        print(f'  {what:<34} {"FAILED":>21} {mc:>10.2f} {pc:>9.2f} {unit}  ({failed})')
        return 'FAILED'
    ms = statistics.median(s) / scale
    ratio = ms / mc
    paired = statistics.median(x / y for x, y in zip(s, c))
    print(f'  {what:<34} {ms:>10.2f} {p90(s) / scale:>10.2f} {mc:>10.2f} {pc:>9.2f}'
          f' {unit} {ratio:>7.3f}x {paired:>7.3f}x')
    return ratio


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=9)
    args = ap.parse_args()
    rounds = args.rounds

    print(f'sync_bench.py: {sys.executable} {sys.version.split()[0]}, nproc {os.cpu_count()}, '
          f'rounds {rounds}, start method fork; not pinned')
    print(f'  {"figure":<34} {"sealshm md":>10} {"p90":>10} {"CPython md":>10} {"p90":>9}'
          f' {"":<5} {"ratio":>8} {"paired":>8}')
    ratios = {}

    n = 200_000
    for name, fn, what in (('Lock', uncontended, 'Lock acquire+release'),
                           ('Lock', uncontended_with, 'Lock `with lock:`'),
                           ('RLock', uncontended, 'RLock acquire+release'),
                           ('Semaphore', uncontended, 'Semaphore acquire+release')):
        ratios[what] = figure(what, lambda mod: fn(getattr(mod, name), n), rounds,
                              1, 'ns')

    n = 1000
    for name, fn, what in (('Semaphore', rt_semaphore, 'Semaphore round trip'),
                           ('Event', rt_event, 'Event round trip'),
                           ('Condition', rt_condition, 'Condition round trip'),
                           ('Barrier', rt_barrier, 'Barrier(2) round trip')):
        ratios[what] = figure(what, lambda mod: fn(maker(mod), n), rounds, 1000, 'us')

    print('targets (ratios of medians, this run):')
    for what, limit in (('Lock acquire+release', 1.0), ('Event round trip', 0.5),
                        ('Condition round trip', 0.5), ('Barrier(2) round trip', 0.5)):
        r = ratios[what]
        label = f'{what} <= {limit}x CPython'
        if isinstance(r, str):
            print(f'  {label:<44} {r}')
        else:
            print(f'  {label:<44} {r:7.3f}x {"met" if r <= limit else "MISSED"}')


if __name__ == '__main__':
    _pybench.run(main)
