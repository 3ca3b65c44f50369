# SPDX-License-Identifier: LGPL-2.1-or-later
"""python_bench: sealshm's Python package against CPython's
multiprocessing.shared_memory, in the same run, alternating rounds so both
see the same machine noise.  Ratios are sealshm's time over CPython's (for
time figures: below 1 is faster) or sealshm's speed over CPython's.

    python3 bench/python_bench.py [--rounds N]

Figures (medians over rounds):
  attach+close      SharedMemory(name) then close(), of an existing name
  create+close+unlink
                    and the floor under it: sealshm's create and unlink
                    each wait for trackerd's answer, so the same run also
                    times a bare round trip between two processes (a
                    socketpair, 8 bytes each way)
  ShareableList get / set of an int, a float and a short str, per item
  ShareableList of 10,000 ints built
  numpy over buf    whether the array's data lies inside the mapping (zero
                    copies), and a sum of 1e6 doubles through it
"""

import argparse
import ctypes
import os
import socket
import statistics
import sys
import time

from multiprocessing import shared_memory as cp

import _pybench                 # first: the bench's own trackerd, before sealshm

from sealshm import shared_memory as ss


def per_op(fn, n):
    t0 = time.perf_counter_ns()
    fn(n)
    return (time.perf_counter_ns() - t0) / n


def bench_attach(mod, name, n):
    def run(n):
        for _ in range(n):
            mod.SharedMemory(name).close()
    return run


def bench_life(mod, n):
    def run(n):
        for _ in range(n):
            s = mod.SharedMemory(create=True, size=4096)
            s.close()
            s.unlink()
    return run


def bench_get(sl, n):
    def run(n):
        for _ in range(n // 3):
            sl[0]
            sl[1]
            sl[2]
    return run


def bench_set(sl, n):
    def run(n):
        for _ in range(n // 3):
            sl[0] = 12345
            sl[1] = 2.5
            sl[2] = 'short'
    return run


def bench_build(mod, n):
    items = list(range(10_000))

    def run(n):
        for _ in range(n):
            sl = mod.ShareableList(items)
            sl.shm.close()
            sl.shm.unlink()
    return run


def round_trip_floor(n):
    """ns per round trip of 8 bytes to a forked process and back."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        try:
            a.close()
            while True:
                msg = b.recv(64)
                if not msg:
                    break
                b.send(msg)
        finally:
            os._exit(0)
    b.close()
    try:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            a.send(b'12345678')
            a.recv(64)
        return (time.perf_counter_ns() - t0) / n
    finally:
        a.close()
        os.waitpid(pid, 0)


def median_pair(make_ss, make_cp, n, rounds):
    a, b = [], []
    for r in range(rounds):
        first, second = (make_ss, make_cp) if r % 2 == 0 else (make_cp, make_ss)
        x = per_op(first, n)
        y = per_op(second, n)
        if r % 2 == 0:
            a.append(x)
            b.append(y)
        else:
            a.append(y)
            b.append(x)
    return statistics.median(a), statistics.median(b)


def row(what, s, c, unit='ns'):
    ratio = s / c
    print(f'  {what:<36} {s:>12.0f} {unit} {c:>12.0f} {unit} {ratio:>8.3f}x')
    return ratio


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=7)
    args = ap.parse_args()
    rounds = args.rounds

    print(f'python_bench: {sys.executable} {sys.version.split()[0]}, nproc {os.cpu_count()}, '
          f'rounds {rounds}; times per operation, sealshm / CPython')
    print(f'  {"figure":<36} {"sealshm":>15} {"CPython":>15} {"ratio":>9}')

    s_keep = ss.SharedMemory(create=True, size=4096, track=False)
    c_keep = cp.SharedMemory(create=True, size=4096)
    targets = {}
    try:
        s, c = median_pair(bench_attach(ss, s_keep.name, 2000), bench_attach(cp, c_keep.name, 2000),
                           2000, rounds)
        targets['attach+close <= 0.5x'] = row('attach+close', s, c) <= 0.5
        s, c = median_pair(bench_life(ss, 500), bench_life(cp, 500), 500, rounds)
        targets['create+close+unlink <= 1.0x'] = row('create+close+unlink', s, c) <= 1.0
        rt = statistics.median(round_trip_floor(2000) for _ in range(rounds))
        print(f'  {"round trip between two processes":<36} {rt:>12.0f} ns   (floor: '
              f'create+close+unlink = {s / rt:.1f} round trips; CPython\'s needs none)')
    finally:
        s_keep.unlink()
        s_keep.close()
        c_keep.close()
        c_keep.unlink()

    sl_s = ss.ShareableList([1, 1.5, 'abc'], track=False)
    sl_c = cp.ShareableList([1, 1.5, 'abc'])
    try:
        s, c = median_pair(bench_get(sl_s, 300_000), bench_get(sl_c, 300_000), 300_000, rounds)
        r = row('ShareableList get (int, float, str)', s, c)
        targets['ShareableList get >= 10x'] = 1 / r >= 10
        s, c = median_pair(bench_set(sl_s, 300_000), bench_set(sl_c, 300_000), 300_000, rounds)
        r = row('ShareableList set (int, float, str)', s, c)
        targets['ShareableList set >= 10x'] = 1 / r >= 10
    finally:
        sl_s.shm.unlink()
        sl_s.shm.close()
        sl_c.shm.close()
        sl_c.shm.unlink()

    s, c = median_pair(bench_build(ss, 20), bench_build(cp, 20), 20, rounds)
    r = row('ShareableList(range(10_000))', s, c)
    targets['10,000-int list built >= 5x'] = 1 / r >= 5

    try:
        import numpy as np
    except ImportError:
        print('  numpy: not installed for this Python; zero-copy figure skipped')
    else:
        shm = ss.SharedMemory(create=True, size=8 * 1_000_000, track=False)
        try:
            a = np.ndarray((1_000_000,), dtype=np.float64, buffer=shm.buf)
            a[:] = 1.0
            start = ctypes.addressof(ctypes.c_char.from_buffer(shm.buf))
            data = a.__array_interface__['data'][0]
            inside = start <= data < start + shm.size
            t0 = time.perf_counter_ns()
            total = float(a.sum())
            t = time.perf_counter_ns() - t0
            print(f'  numpy over buf: data inside the mapping: {inside}; sum of 1e6 doubles '
                  f'{t / 1e6:.2f} ms (= {total:.0f})')
            targets['numpy zero copies'] = inside
            del a
        finally:
            shm.unlink()
            shm.close()

    print('targets:')
    for what, met in targets.items():
        print(f'  {what}: {"met" if met else "MISSED"}')


if __name__ == '__main__':
    _pybench.run(main)
