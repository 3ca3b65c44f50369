# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Makefile asks the Python it builds the package for.

    PYTHON scripts/pyconfig.py build
        one line: EXECUTABLE VERSION INCLUDE PLATINCLUDE EXT_SUFFIX HEADERS
        (HEADERS: 1 when INCLUDE holds Python.h, else 0)

Paths with spaces are not supported (make cannot hold them either).
Runs under every Python 3 the package may be built for.
"""

import os
import sys
import sysconfig


def build_info():
    paths = sysconfig.get_paths()
    include = paths['include']
    headers = os.path.isfile(os.path.join(include, 'Python.h'))
    return ' '.join([sys.executable, '%d.%d' % sys.version_info[:2], include,
                     paths.get('platinclude', include),
                     sysconfig.get_config_var('EXT_SUFFIX'), '1' if headers else '0'])


def main(argv):
    if len(argv) == 2 and argv[1] == 'build':
        print(build_info())
    else:
        print('usage: pyconfig.py build', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
