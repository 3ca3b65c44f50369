# SPDX-License-Identifier: LGPL-2.1-or-later
"""value_bench: sealshm's Value, Array and RawValue against CPython's
multiprocessing ones (start method fork's context), and numpy over the
shared buffer against numpy over private memory, in the same run,
alternating which goes first in each round so both see the same machine
noise.

    python3 bench/value_bench.py [--rounds N]

Figures (median over rounds of this thread's CPU time; ratios are
speed-ups, the baseline's median time over sealshm's: above 1 is faster):
  Value('i') under its lock   `with v.get_lock(): v.value += 1`
  Array('d', 1_000_000)[:]    a list of a million floats, from a
                              synchronized Array (lock=True, the default)
  numpy over get_obj()        numpy.frombuffer(a.get_obj()).sum() against
                              .sum() of a private numpy array of the same
                              size and contents
and for information: RawValue('i') `v.value += 1`; `sum(a)` over the
synchronized Array; the parts of the Value figure (the lock alone, a
read, a write); numpy over multiprocessing's Array; the floor of `a[:]`
(array.array('d').tolist(): a million new floats from private memory).
Rows needing numpy are skipped when it cannot be imported.
"""

import argparse
import array
import multiprocessing
import os
import statistics
import sys
import time

import _pybench                 # first: the bench's own trackerd, before sealshm

import sealshm

try:
    import numpy
    NUMPY_ERROR = None
except ImportError as e:
    numpy = None
    NUMPY_ERROR = f'{type(e).__name__}: {e}'

CP = multiprocessing.get_context('fork')
N_ITEMS = 1_000_000
# Every figure runs in this one thread: its CPU time (user + system) is
# what an operation costs, without the time other load on a shared machine
# preempts it for.
now = time.thread_time_ns


# --- what is timed: each returns ns per operation -------------------------------------

def value_locked_incr(v, n):
    t0 = now()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    return (now() - t0) / n


def value_lock_only(v, n):
    t0 = now()
    for _ in range(n):
        with v.get_lock():
            pass
    return (now() - t0) / n


def value_read(v, n):
    t0 = now()
    for _ in range(n):
        v.value
    return (now() - t0) / n


def value_write(v, n):
    t0 = now()
    for _ in range(n):
        v.value = 1
    return (now() - t0) / n


def raw_incr(v, n):
    t0 = now()
    for _ in range(n):
        v.value += 1
    return (now() - t0) / n


def slice_all(a, n):
    t0 = now()
    for _ in range(n):
        a[:]
    return (now() - t0) / n


def builtin_sum(a, n):
    t0 = now()
    for _ in range(n):
        sum(a)
    return (now() - t0) / n


def numpy_shared_sum(a, n):
    t0 = now()
    for _ in range(n):
        numpy.frombuffer(a.get_obj(), dtype=numpy.float64).sum()
    return (now() - t0) / n


def numpy_private_sum(p, n):
    t0 = now()
    for _ in range(n):
        p.sum()
    return (now() - t0) / n


def tolist(p, n):
    t0 = now()
    for _ in range(n):
        p.tolist()
    return (now() - t0) / n


# --- the objects, made once --------------------------------------------------------------

class Objects:
    """One module's (sealshm's or CPython's) objects, made on first use;
    a failure to make them is kept and raised again at each use."""

    def __init__(self, mod):
        self.mod = mod
        self._made = {}

    def get(self, what):
        if what not in self._made:
            try:
                self._made[what] = (getattr(self, '_' + what)(), None)
            except Exception as e:              # noqa: BLE001 (raised at each use)
                self._made[what] = (None, e)
        obj, err = self._made[what]
        if err is not None:
            raise err
        return obj

    def _value(self):
        return self.mod.Value('i', 0)

    def _raw_value(self):
        return self.mod.RawValue('i', 0)

    def _array(self):
        a = self.mod.Array('d', N_ITEMS)
        if numpy is not None:
            numpy.frombuffer(a.get_obj(), dtype=numpy.float64)[:] = private_data()
        a[:]                                    # every page touched before timing
        return a


_PRIVATE_DATA = None


def private_data():
    """The private numpy array the shared ones copy (made once)."""
    global _PRIVATE_DATA
    if _PRIVATE_DATA is None:
        _PRIVATE_DATA = numpy.arange(N_ITEMS, dtype=numpy.float64) * 0.5
    return _PRIVATE_DATA


# --- rows ------------------------------------------------------------------------------

def p90(v):
    v = sorted(v)
    return v[max(0, -(-len(v) * 90 // 100) - 1)]


def fmt(ns, unit):
    """A median time in the row's unit: 'M/s' (operations per second) or
    'ms' / 'us' (time per operation)."""
    if unit == 'M/s':
        return f'{1000 / ns:10.2f} M/s'
    return f'{ns / {"ms": 1e6, "us": 1e3}[unit]:10.3f} {unit:<3}'


HEAD = (f'  {"figure":<44} {"sealshm":>14} {"baseline":>14} {"ratio":>8} {"paired":>8}'
        f'  {"target":<16} {"":<6}')


def row(what, sealshm_run, base_run, rounds, unit, target=None, note=''):
    """sealshm_run() and base_run() -> one sample (ns per operation); rounds
    alternate which goes first.  Prints a row: figure, sealshm's median,
    the baseline's, the speed-up (ratio of medians), the median of the
    per-round speed-ups, the target, met/MISSED (or info).  Returns the
    speed-up, or None when sealshm's side failed (the row says why)."""
    s, b, failed = [], [], None
    for r in range(rounds):
        for side in ((0, 1) if r % 2 == 0 else (1, 0)):
            if side == 1:
                b.append(base_run())
            elif failed is None:
                try:
                    s.append(sealshm_run())
                except Exception as e:          # noqa: BLE001 (reported)
                    failed = f'{type(e).__name__}: {e}'
    mb = statistics.median(b)
    tgt = f'>= {target:.3g}x' if target is not None else '-'
    if failed:
        print(f'  {what:<44} {"FAILED":>14} {fmt(mb, unit)} {"-":>8} {"-":>8}  {tgt:<16} '
              f'{"MISSED" if target is not None else "info"}  ({failed})')
        return None
    ms = statistics.median(s)
    ratio = mb / ms
    paired = statistics.median(y / x for x, y in zip(s, b))
    verdict = 'info' if target is None else ('met' if ratio >= target else 'MISSED')
    print(f'  {what:<44} {fmt(ms, unit)} {fmt(mb, unit)} {ratio:7.3f}x {paired:7.3f}x'
          f'  {tgt:<16} {verdict:<6}{note}')
    return ratio


def skipped(what, why):
    print(f'  {what:<44} skipped: {why}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=9)
    args = ap.parse_args()
    rounds = args.rounds
    few = max(3, rounds // 2)           # rounds of the slowest rows (sum(a))

    print(f'value_bench.py: {sys.executable} {sys.version.split()[0]}, nproc {os.cpu_count()}, '
          f'numpy {numpy.__version__ if numpy is not None else "absent"}, rounds {rounds}, '
          f'baseline: multiprocessing (fork context) unless said; CPU time; not pinned')
    print(HEAD)
    S, C = Objects(sealshm), Objects(CP)

    n = 200_000
    print('Value(\'i\') (baseline: multiprocessing.Value(\'i\'), its RLock)')
    row('with v.get_lock(): v.value += 1',
        lambda: value_locked_incr(S.get('value'), n),
        lambda: value_locked_incr(C.get('value'), n), rounds, 'M/s', 1.0)
    row('  part: with v.get_lock(): pass',
        lambda: value_lock_only(S.get('value'), n),
        lambda: value_lock_only(C.get('value'), n), rounds, 'M/s')
    row('  part: v.value (read, takes the lock)',
        lambda: value_read(S.get('value'), n),
        lambda: value_read(C.get('value'), n), rounds, 'M/s')
    row('  part: v.value = 1 (write, takes the lock)',
        lambda: value_write(S.get('value'), n),
        lambda: value_write(C.get('value'), n), rounds, 'M/s')
    row('RawValue(\'i\'): v.value += 1',
        lambda: raw_incr(S.get('raw_value'), n),
        lambda: raw_incr(C.get('raw_value'), n), rounds, 'M/s')

    print(f'Array(\'d\', {N_ITEMS:_}) (baseline: multiprocessing.Array, lock=True)')
    row('a[:]', lambda: slice_all(S.get('array'), 3),
        lambda: slice_all(C.get('array'), 3), rounds, 'ms', 5.0)
    row('sum(a)', lambda: builtin_sum(S.get('array'), 1),
        lambda: builtin_sum(C.get('array'), 1), few, 'ms')
    if numpy is None:
        for what in ('floor of a[:]: array.array(\'d\').tolist()',
                     'numpy.frombuffer(a.get_obj()).sum()',
                     '  numpy over multiprocessing.Array'):
            skipped(what, f'numpy not importable ({NUMPY_ERROR})')
    else:
        private = private_data()
        floor = array.array('d', private.tobytes())
        row('floor of a[:]: array.array(\'d\').tolist()', lambda: tolist(floor, 3),
            lambda: slice_all(C.get('array'), 3), rounds, 'ms',
            note='  (sealshm column: the floor)')
        print('numpy (baseline: .sum() of a private numpy array, same size and contents)')
        try:
            ok = numpy.frombuffer(S.get('array').get_obj(),
                                  dtype=numpy.float64).sum() == private.sum()
            note = '' if ok else '  (sums differ!)'
        except Exception:                       # noqa: BLE001 (the row reports it)
            note = ''
        row('numpy.frombuffer(a.get_obj()).sum()',
            lambda: numpy_shared_sum(S.get('array'), 20),
            lambda: numpy_private_sum(private, 20), rounds, 'ms', 1 / 1.2,
            note or '  (target: time within 1.2x)')
        row('  numpy over multiprocessing.Array',
            lambda: numpy_shared_sum(C.get('array'), 20),
            lambda: numpy_private_sum(private, 20), rounds, 'ms',
            note='  (sealshm column: CPython\'s Array)')


if __name__ == '__main__':
    _pybench.run(main)
