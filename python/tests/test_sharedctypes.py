# SPDX-License-Identifier: LGPL-2.1-or-later
"""sealshm.sharedctypes (Value, Array, RawValue, RawArray, synchronized,
copy) against multiprocessing.sharedctypes' behaviour, with processes that
multiprocessing starts with fork, spawn and forkserver; and what sealshm
adds: the objects of a process share few segments, and nothing is left
after they are collected, or after kill -9 of the whole family.

Every wait here has a timeout: a hang is a failure, not a stuck run."""

import ctypes
import gc
import pickle
import unittest
import warnings

import multiprocessing
import multiprocessing.sharedctypes as mpsc

import sealshm
from sealshm import shared_memory, sharedctypes
from sealshm.sharedctypes import (Array, RawArray, RawValue, Synchronized, SynchronizedArray,
                                  SynchronizedBase, SynchronizedString, Value, copy,
                                  synchronized)

from _support import TIMEOUT, check_killed_family, gone, have_numpy, join, start

METHODS = ('fork', 'spawn', 'forkserver')
# Values of each typecode that survive a round trip exactly.
SAMPLES = {
    'c': [b'a', b'\x00', b'\xff'],
    'u': ['a', '\u20ac', '\U0001f600'],
    'b': [-128, 0, 127],
    'B': [0, 1, 255],
    '?': [True, False, True],
    'h': [-32768, 2, 32767],
    'H': [0, 3, 65535],
    'i': [-2**31, 4, 2**31 - 1],
    'I': [0, 5, 2**32 - 1],
    'l': [-2**63, 6, 2**63 - 1],
    'L': [0, 7, 2**64 - 1],
    'q': [-2**63, 8, 2**63 - 1],
    'Q': [0, 9, 2**64 - 1],
    'f': [-1.5, 0.25, 2.0 ** 100],
    'd': [-1e308, 0.1, 2.5],
}


class _Foo(ctypes.Structure):
    _fields_ = [('x', ctypes.c_int), ('y', ctypes.c_double), ('z', ctypes.c_longlong)]


def names():
    return {s.name for s in shared_memory.segments()}


def outcome(func, *args):
    """What @func(*args) gives: ('ok', result) or (exception type, message)."""
    try:
        return ('ok', func(*args))
    except Exception as e:
        return (type(e), str(e))


# --- what children run (module level: spawn and forkserver import them) ---

def child_add_and_double(n, a):
    with n.get_lock():
        n.value += 10
    with a.get_lock():
        for i in range(len(a)):
            a[i] = a[i] * 2


def child_increment(v, times):
    for _ in range(times):
        with v.get_lock():
            v.value += 1


def child_increment_raw(v, a, lock, times):
    for _ in range(times):
        with lock:
            v.value += 1
            a[0] += 1
            a[1] -= 1


def child_check_samples(objs, conn):
    # Each (code, value, array): read what the parent wrote, write the
    # samples in reverse order.
    got = []
    for code, v, a in objs:
        got.append((code, v.value, a[:]))
        with v.get_lock():
            v.value = SAMPLES[code][0]
        a[:] = SAMPLES[code][::-1]
    conn.send(got)


def child_struct(foo, arr, sfoo):
    foo.x += 1
    foo.y *= 2
    arr[1].x = 42
    with sfoo.get_lock():
        sfoo.z = sfoo.z + 5


def child_string(s):
    with s.get_lock():
        s.value = b'child'


def child_read(obj, conn):
    conn.send(obj[:])


def child_write_one(a, index, value):
    a[index] = value


def child_lock_state(v, conn):
    conn.send((type(v.get_lock()).__name__, v.value))


# --- tests ------------------------------------------------------------------

class DocumentationExample(unittest.TestCase):

    def test_two_processes_add_and_double(self):
        # The classic example, with two processes: 5 + 10 + 10, and
        # [1, 2, 3, 4] doubled twice.
        for method in METHODS:
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                n = sealshm.Value('i', 5)
                a = sealshm.Array('f', [1.0, 2.0, 3.0, 4.0])
                ps = [start(ctx, child_add_and_double, n, a) for _ in range(2)]
                for p in ps:
                    self.assertEqual(join(p), 0)
                self.assertEqual(n.value, 25)
                self.assertEqual(a[:], [4.0, 8.0, 12.0, 16.0])

    def test_many_processes_reach_the_exact_total(self):
        for method in ('fork', 'spawn'):
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                v = Value('q', 0)
                ps = [start(ctx, child_increment, v, 2000) for _ in range(4)]
                child_increment(v, 2000)
                for p in ps:
                    self.assertEqual(join(p), 0)
                self.assertEqual(v.value, 10000)

    def test_raw_objects_with_a_separate_lock(self):
        for method in ('fork', 'forkserver'):
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                v = RawValue('i', 0)
                a = RawArray('l', [0, 0])
                lock = sealshm.Lock()
                ps = [start(ctx, child_increment_raw, v, a, lock, 1000) for _ in range(3)]
                for p in ps:
                    self.assertEqual(join(p), 0)
                self.assertEqual((v.value, a[0], a[1]), (3000, 3000, -3000))


class Typecodes(unittest.TestCase):

    def test_every_typecode_round_trips(self):
        for code, samples in SAMPLES.items():
            with self.subTest(code=code):
                v = Value(code, samples[1])
                self.assertEqual(v.value, samples[1])
                for s in samples:
                    v.value = s
                    self.assertEqual(v.value, s)
                a = Array(code, samples)
                self.assertEqual(len(a), 3)
                if code == 'c':
                    self.assertEqual(a[:], b''.join(samples))
                    self.assertEqual([a[i] for i in range(3)], samples)
                elif code == 'u':
                    self.assertEqual(a[:], ''.join(samples))
                else:
                    self.assertEqual(a[:], samples)
                    self.assertEqual(a[::-1], samples[::-1])
                    self.assertEqual(list(a), samples)
                ra = RawArray(code, samples)
                self.assertEqual(ra[:], a[:])
                # What CPython's objects give (no '?' there).
                if code in mpsc.typecode_to_type:
                    cp = mpsc.Array(code, samples, lock=False)
                    self.assertEqual(cp[:], ra[:])
                    self.assertEqual(mpsc.RawValue(code, samples[2]).value,
                                     RawValue(code, samples[2]).value)

    def test_every_typecode_in_a_child(self):
        for method in METHODS:
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                objs = [(code, Value(code, s[2]), Array(code, s)) for code, s in SAMPLES.items()]
                a, b = ctx.Pipe()
                p = start(ctx, child_check_samples, objs, b)
                self.assertTrue(a.poll(TIMEOUT))
                got = a.recv()
                self.assertEqual(join(p), 0)
                for (code, v, arr), (gcode, gv, garr) in zip(objs, got):
                    s = SAMPLES[code]
                    self.assertEqual((gcode, gv), (code, s[2]))
                    if code == 'c':
                        self.assertEqual(garr, b''.join(s))
                    elif code == 'u':
                        self.assertEqual(garr, ''.join(s))
                    else:
                        self.assertEqual(garr, s)
                    # What the child wrote.
                    self.assertEqual(v.value, s[0])
                    if code == 'c':
                        self.assertEqual(arr[:], b''.join(s[::-1]))
                    elif code == 'u':
                        self.assertEqual(arr[:], ''.join(s[::-1]))
                    else:
                        self.assertEqual(arr[:], s[::-1])

    def test_ctypes_conversions_as_cpython(self):
        # The fast path of Synchronized.value converts as ctypes does.
        cases = [('i', 2**40 + 7), ('i', -1), ('B', 300), ('b', 200), ('H', -1),
                 ('I', -1), ('L', 2**70 + 3), ('q', 2**63), ('d', 3), ('f', 0.1),
                 ('d', 10**400), ('f', 1e300), ('?', 0), ('?', 5), ('?', 'x'), ('?', None),
                 ('i', 1.5), ('d', 'x'), ('i', '3'), ('c', b'x'), ('c', 66), ('c', b'xy'),
                 ('d', None), ('i', True), ('h', 2**15)]
        for code, value in cases:
            with self.subTest(code=code, value=value):
                ours = Value(code, lock=True)
                theirs = mpsc.Value(sharedctypes.typecode_to_type[code], lock=True)
                self.assertEqual(outcome(setattr, ours, 'value', value),
                                 outcome(setattr, theirs, 'value', value))
                self.assertEqual(ours.value, theirs.value)
        self.assertTrue(Value('d')._fast)
        self.assertFalse(Value('c')._fast)

    def test_ctypes_types_and_u(self):
        v = Value(ctypes.c_ulonglong, 2**64 - 1)
        self.assertEqual(v.value, 2**64 - 1)
        w = Value('u', 'x')
        self.assertEqual(w.value, 'x')
        a = Array(ctypes.c_int16, [1, 2, 3])
        self.assertEqual(a[:], [1, 2, 3])
        self.assertIsInstance(a.get_obj(), ctypes.Array)
        self.assertIs(a.get_obj()._type_, ctypes.c_int16)
        z = RawArray('i', 0)
        self.assertEqual(len(z), 0)
        self.assertEqual(z[:], [])


class Errors(unittest.TestCase):

    def compare(self, ours, theirs, ops):
        for name, op in ops:
            with self.subTest(op=name):
                a, b = outcome(op, ours), outcome(op, theirs)
                self.assertNotEqual(a[0], 'ok', name)
                self.assertEqual(a, b)

    def test_out_of_range_and_wrong_types_raise_what_cpython_raises(self):
        ops = [
            ('get 4', lambda a: a[4]),
            ('get -5', lambda a: a[-5]),
            ('set 4', lambda a: a.__setitem__(4, 1)),
            ('set str', lambda a: a.__setitem__(0, 'x')),
            ('set None', lambda a: a.__setitem__(1, None)),
            ('slice short', lambda a: a.__setitem__(slice(0, 2), [1])),
            ('slice str', lambda a: a.__setitem__(slice(0, 2), ['a', 'b'])),
            ('index str', lambda a: a['x']),
            ('index float', lambda a: a[1.0]),
        ]
        for code in 'iHqd':
            with self.subTest(code=code):
                self.compare(Array(code, 4), mpsc.Array(code, 4), ops)
                self.compare(RawArray(code, 4), mpsc.RawArray(code, 4), ops)
        vops = [('value str', lambda v: setattr(v, 'value', 'x')),
                ('value list', lambda v: setattr(v, 'value', [1])),
                ('del value', lambda v: delattr(v, 'value'))]
        for code in 'bid':
            self.compare(Value(code), mpsc.Value(code), vops)
            self.compare(RawValue(code), mpsc.RawValue(code), vops[:2])

    def test_constructors_raise_what_cpython_raises(self):
        cases = [
            ('bad typecode', lambda m: m.Value('x')),
            ('bad size', lambda m: m.Array('i', -1)),
            ('too many', lambda m: m.RawValue('i', 1, 2)),
            ('bad init', lambda m: m.RawArray('i', ['a'])),
            ('bad lock', lambda m: m.Value('i', lock=5)),
            ('bad array lock', lambda m: m.Array('i', 3, lock='nolock')),
        ]
        for name, make in cases:
            with self.subTest(case=name):
                ours = outcome(make, sharedctypes)
                theirs = outcome(make, mpsc)
                self.assertNotEqual(ours[0], 'ok')
                self.assertEqual(ours, theirs)

    def test_raw_objects_have_no_lock(self):
        for ours, theirs in ((Value('i', lock=False), mpsc.Value('i', lock=False)),
                             (Array('i', 2, lock=False), mpsc.Array('i', 2, lock=False))):
            self.assertIs(type(ours), type(theirs))
            self.assertEqual(outcome(lambda o: o.get_lock(), ours)[0],
                             outcome(lambda o: o.get_lock(), theirs)[0])
            self.assertRaises(AttributeError, lambda: ours.get_lock())

    def test_pickling_outside_a_process_start_raises_as_cpython(self):
        from multiprocessing.reduction import ForkingPickler
        for ours, theirs in ((Value('i'), mpsc.Value('i')), (Array('d', 3), mpsc.Array('d', 3))):
            self.assertEqual(outcome(ForkingPickler.dumps, ours),
                             outcome(ForkingPickler.dumps, theirs))
            self.assertEqual(outcome(pickle.dumps, ours), outcome(pickle.dumps, theirs))
        # Raw objects: CPython's fail on its heap's mmap (TypeError), ours
        # on the spawning check (RuntimeError, the words above) or, for an
        # array type made on the fly, on finding its class (as CPython's).
        for raw in (RawValue('i'), RawArray('d', 2), Value('i').get_obj()):
            self.assertRaises(RuntimeError, ForkingPickler.dumps, raw)
            self.assertRaises(Exception, pickle.dumps, raw)
        self.assertRaises(RuntimeError, pickle.dumps, RawValue('i'))
        self.assertRaises(TypeError, pickle.dumps, mpsc.RawValue('i'))

    def test_already_synchronized(self):
        v = Value('i')
        self.assertRaises(AssertionError, synchronized, v)


class Objects(unittest.TestCase):

    def test_synchronized_api(self):
        v = Value('d', 1.5)
        self.assertIsInstance(v, Synchronized)
        self.assertIsInstance(v, SynchronizedBase)
        self.assertIsInstance(v.get_obj(), ctypes.c_double)
        self.assertIsInstance(v.get_lock(), sealshm.synchronize.RLock)
        self.assertEqual(repr(v), '<Synchronized wrapper for c_double(1.5)>')
        with v:
            with v.get_lock():      # recursive
                v.value = 2.5
        self.assertTrue(v.acquire())
        v.value += 1
        v.release()
        self.assertEqual(v.get_obj().value, 3.5)
        a = Array('i', range(5))
        self.assertIsInstance(a, SynchronizedArray)
        self.assertEqual(a[1:4], [1, 2, 3])
        a[1:3] = [7, 8]
        self.assertEqual(a[:], [0, 7, 8, 3, 4])
        self.assertEqual(len(a), 5)

    def test_a_lock_of_the_callers(self):
        for lock in (sealshm.Lock(), sealshm.RLock(), multiprocessing.RLock()):
            with self.subTest(lock=type(lock).__name__):
                v = Value('i', 3, lock=lock)
                self.assertIs(v.get_lock(), lock)
                self.assertFalse(v._fast)
                v.value += 1
                self.assertEqual(v.value, 4)
                a = Array('d', 3, lock=lock)
                self.assertIs(a.get_lock(), lock)
                a[:] = [1, 2, 3]
                self.assertEqual(a[:], [1.0, 2.0, 3.0])

    def test_c_char_arrays(self):
        s = Array('c', b'hello world')
        self.assertIsInstance(s, SynchronizedString)
        self.assertEqual(s.value, b'hello world')
        s.value = b'hi'
        self.assertEqual(s.value, b'hi')
        self.assertEqual(s.raw, b'hi\x00lo world')
        s.raw = b'abcdefghijk'
        self.assertEqual(s[2:5], b'cde')
        cp = mpsc.Array('c', 11)
        self.assertEqual(outcome(setattr, s, 'value', b'x' * 12),
                         outcome(setattr, cp, 'value', b'x' * 12))
        z = Array('c', 5)
        self.assertEqual(z.raw, b'\x00' * 5)
        for method in ('fork', 'spawn'):
            ctx = multiprocessing.get_context(method)
            self.assertEqual(join(start(ctx, child_string, s)), 0)
            self.assertEqual(s.value, b'child')
            s.value = b''

    def test_structures(self):
        foo = RawValue(_Foo, 3, 2.0, 7)
        self.assertEqual((foo.x, foo.y, foo.z), (3, 2.0, 7))
        arr = RawArray(_Foo, [(1, 1.0, 1), (2, 2.0, 2)])
        self.assertEqual(arr[1].x, 2)
        sfoo = Value(_Foo, 1, 1.0, 10)
        self.assertEqual(type(sfoo).__name__, 'Synchronized_Foo')
        self.assertEqual(sfoo.z, 10)
        sfoo.x = 5
        self.assertEqual(sfoo.get_obj().x, 5)
        for method in METHODS:
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                x, y, z = foo.x, foo.y, sfoo.z
                self.assertEqual(join(start(ctx, child_struct, foo, arr, sfoo)), 0)
                self.assertEqual((foo.x, foo.y, arr[1].x, sfoo.z), (x + 1, y * 2, 42, z + 5))
                arr[1].x = 0

    def test_copy_and_synchronized(self):
        a = RawArray('d', [1.0, 2.0])
        b = copy(a)
        self.assertIsNot(b, a)
        self.assertEqual(b[:], [1.0, 2.0])
        b[0] = 5
        self.assertEqual(a[0], 1.0)
        f = copy(RawValue(_Foo, 1, 2.0, 3))
        self.assertEqual((f.x, f.y, f.z), (1, 2.0, 3))
        s = synchronized(b)
        self.assertIsInstance(s, SynchronizedArray)
        self.assertIsInstance(s.get_lock(), sealshm.synchronize.RLock)
        self.assertEqual(s[:], [5.0, 2.0])
        lk = sealshm.Lock()
        s2 = synchronized(RawValue('i', 4), lk)
        self.assertIs(s2.get_lock(), lk)
        self.assertEqual(s2.value, 4)
        ss = synchronized(RawArray('c', b'ab'))
        self.assertIsInstance(ss, SynchronizedString)
        # A private ctypes object: copied into shared memory.
        c = copy(ctypes.c_int(9))
        self.assertEqual(c.value, 9)
        self.assertIsInstance(c._wrapper, sharedctypes._Buffer)

    def test_memoryview_is_zero_copy(self):
        a = Array('i', 4)
        # (ctypes' own memoryview has a format ('<i') that memoryview cannot
        # index: cast through bytes, as with CPython's objects.)
        m = memoryview(a.get_obj()).cast('B').cast('i')
        m[2] = 77
        self.assertEqual(a[2], 77)
        a[3] = 88
        self.assertEqual(m[3], 88)
        raw = RawArray('d', 3)
        mv = memoryview(raw).cast('B').cast('d')
        mv[1] = 0.5
        for method in ('fork', 'spawn'):
            ctx = multiprocessing.get_context(method)
            r, w = ctx.Pipe()
            p = start(ctx, child_read, raw, w)
            self.assertTrue(r.poll(TIMEOUT))
            self.assertEqual(r.recv(), [0.0, 0.5, 0.0])
            self.assertEqual(join(p), 0)
        m.release()
        mv.release()

    @unittest.skipUnless(have_numpy(), 'numpy is not installed for this Python')
    def test_numpy_sees_writes_both_ways(self):
        import numpy
        a = Array('d', 1000)
        n = numpy.frombuffer(a.get_obj())
        self.assertEqual(n.ctypes.data % 16, 0)
        n[:] = numpy.arange(1000)
        self.assertEqual(a[999], 999.0)
        a[5] = -1
        self.assertEqual(n[5], -1)
        for method in METHODS:
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                self.assertEqual(join(start(ctx, child_write_one, a, 10, 0.25)), 0)
                self.assertEqual(n[10], 0.25)
        self.assertEqual(n.sum(), sum(a[:]))

    def test_lock_travels_as_the_objects_own(self):
        v = Value('i', 6)
        for method in METHODS:
            with self.subTest(method=method):
                ctx = multiprocessing.get_context(method)
                r, w = ctx.Pipe()
                p = start(ctx, child_lock_state, v, w)
                self.assertTrue(r.poll(TIMEOUT))
                self.assertEqual(r.recv(), ('RLock', 6))
                self.assertEqual(join(p), 0)

    def test_held_lock_blocks_a_child(self):
        # The child's 'value' waits for the lock this process holds.
        v = Value('i', 0)
        ctx = multiprocessing.get_context('spawn')
        with v.get_lock():
            p = start(ctx, child_increment, v, 1)
            p.join(1.0)
            self.assertIsNone(p.exitcode)
            self.assertEqual(v.value, 0)
        self.assertEqual(join(p), 0)
        self.assertEqual(v.value, 1)


class Arenas(unittest.TestCase):

    def assert_names_go(self, made):
        """The objects dropped: once collected and this process's arenas
        closed, every name in @made is gone."""
        gc.collect()
        sharedctypes._close_arenas()
        for n in made:
            self.assertTrue(gone(n), n)

    def test_many_values_share_few_segments_and_leave_nothing(self):
        sharedctypes._close_arenas()
        gc.collect()
        before = names()
        objs = [Value('i', i) for i in range(1000)]
        objs += [RawArray('d', 10) for _ in range(100)]
        made = names() - before
        self.assertGreaterEqual(len(made), 1)
        self.assertLessEqual(len(made), 10, made)
        self.assertEqual(sum(o.value for o in objs[:1000]), sum(range(1000)))
        # A child that attaches holds its own references: the names stay
        # while it does, after this process dropped its objects.
        del objs
        self.assert_names_go(made)

    def test_an_attached_block_outlives_its_maker(self):
        sharedctypes._close_arenas()
        before = names()
        a = Array('i', [1, 2, 3])
        made = names() - before
        ctx = multiprocessing.get_context('spawn')
        r, w = ctx.Pipe()
        p = start(ctx, child_read, a, w)
        self.assertTrue(r.poll(TIMEOUT))
        self.assertEqual(r.recv(), [1, 2, 3])
        self.assertEqual(join(p), 0)
        del a
        self.assert_names_go(made)

    def test_forked_child_leaves_the_parents_objects_alone(self):
        box = [Value('i', 1), RawArray('d', 2)]
        ctx = multiprocessing.get_context('fork')
        self.assertEqual(join(start(ctx, _drop_and_collect, box)), 0)
        box[0].value += 1
        box[1][1] = 2.0
        self.assertEqual((box[0].value, box[1][:]), (2, [0.0, 2.0]))


def _drop_and_collect(box):
    v = box[0]
    with v.get_lock():
        v.value += 0
    box.clear()
    del v
    gc.collect()
    # New objects in a forked child: an arena of its own.
    w = Value('i', 5)
    assert w.value == 5


FAMILY = r'''
import multiprocessing, sys, time
import sealshm

def child(objs, conn):
    mine = [sealshm.Value('d', 1.0), sealshm.Array('i', 100)]
    conn.send(sorted({o.get_obj()._wrapper.name for o in mine}))
    time.sleep(60)

if __name__ == '__main__':
    ctx = multiprocessing.get_context(sys.argv[1])
    objs = [sealshm.Value('i', 1), sealshm.Array('d', 10), sealshm.RawValue('q'),
            sealshm.RawArray('c', 8)]
    a, b = ctx.Pipe()
    p = ctx.Process(target=child, args=(objs, b))
    p.start()
    a.poll(30)
    names = set(a.recv())
    for o in objs:
        w = getattr(o, '_wrapper', None) or o.get_obj()._wrapper
        names.add(w.name)
    print(' '.join(sorted(names)), flush=True)
    time.sleep(60)
'''


class Names(unittest.TestCase):

    def test_killed_family_leaves_no_names(self):
        # The parent's arena and the child's: two at least.
        check_killed_family(self, FAMILY,
                            lambda names, line: self.assertGreaterEqual(len(names), 2, line))


if __name__ == '__main__':
    warnings.simplefilter('default')
    unittest.main()
