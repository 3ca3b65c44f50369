# SPDX-License-Identifier: LGPL-2.1-or-later
"""The README's Python examples, run as a user would run them: each code
block of its "Change an import" section that has an ``if __name__ ==
'__main__':`` part is written to a file and run as a program, once per
start method, and must print what its comments say and leave no name
behind."""

import os
import re
import subprocess
import sys
import tempfile
import unittest

from _support import TIMEOUT, have_numpy
from sealshm import shared_memory

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'README.md')
METHODS = ('fork', 'spawn', 'forkserver')
MAIN = "if __name__ == '__main__':\n"


def readme_programs():
    """The code of each program of the README's Python section."""
    with open(README, encoding='utf-8') as f:
        text = f.read()
    start = text.index('### Change an import')
    section = text[start:text.index('\n## ', start)]
    blocks = re.findall(r'```python\n(.*?)```', section, re.S)
    return [b for b in blocks if MAIN in b]


def expected_output(code):
    """The lines the program's print() calls promise, in their comments."""
    return [m.group(1).strip() for m in re.finditer(r'^\s*print\(.*\)\s+#\s*(.+)$', code, re.M)]


class ReadmeExamples(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def run_program(self, code, method):
        # The start method is chosen first thing in the main part, as a
        # user who wants another than the default would.
        code = code.replace(MAIN, MAIN + f"    import multiprocessing; "
                                        f"multiprocessing.set_start_method({method!r})\n", 1)
        path = os.path.join(self.tmp.name, f'example_{method}.py')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(code)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        return subprocess.run([sys.executable, path], env=env, cwd=self.tmp.name,
                              timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)

    def test_there_are_six_programs_with_promised_output(self):
        programs = readme_programs()
        self.assertEqual(len(programs), 6)
        for code in programs:
            self.assertTrue(expected_output(code), code)

    def check_program(self, index):
        code = readme_programs()[index]
        if 'import numpy' in code and not have_numpy():
            self.skipTest('numpy is not installed for this Python')
        for method in METHODS:
            with self.subTest(method=method):
                before = {s.name for s in shared_memory.segments()}
                r = self.run_program(code, method)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, '')
                self.assertEqual([line.strip() for line in r.stdout.splitlines()],
                                 expected_output(code))
                after = {s.name for s in shared_memory.segments()}
                self.assertEqual(after - before, set())

    def test_numpy_array_shared_with_a_child(self):
        self.check_program(0)

    def test_shareable_list_changed_by_two_workers(self):
        self.check_program(1)

    def test_shared_memory_manager(self):
        self.check_program(2)

    def test_counter_under_a_lock(self):
        self.check_program(3)

    def test_lock_of_a_killed_holder(self):
        self.check_program(4)

    def test_value_and_array_of_two_processes(self):
        self.check_program(5)


if __name__ == '__main__':
    unittest.main()
