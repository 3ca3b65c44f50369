# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Makefile asks the Python it builds the package for.

    PYTHON scripts/pyconfig.py build
        one line: EXECUTABLE VERSION INCLUDE PLATINCLUDE EXT_SUFFIX HEADERS
        (HEADERS: 1 when INCLUDE holds Python.h, else 0)
    PYTHON scripts/pyconfig.py platlib PREFIX
        the directory where this interpreter finds packages installed
        under PREFIX

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


def platlib(prefix):
    """sysconfig's platlib for @prefix, except on Debian's (and Ubuntu's)
    python3: its default scheme, posix_local, is
    {platbase}/local/lib/python3.X/dist-packages, meant for platbase=/usr,
    and /usr itself belongs to Debian packages (deb_system:
    /usr/lib/python3/dist-packages).  So PREFIX=/usr/local gives
    /usr/local/lib/python3.X/dist-packages and PREFIX=/usr
    /usr/lib/python3/dist-packages, both on that python3's sys.path; any
    other PREFIX the plain PREFIX/lib/python3.X/site-packages."""
    prefix = prefix.rstrip('/') or '/'
    names = sysconfig.get_scheme_names()
    in_venv = sys.prefix != getattr(sys, 'base_prefix', sys.prefix)
    scheme = None
    base = prefix
    if 'posix_local' in names and 'deb_system' in names and not in_venv:
        if prefix == '/usr':
            scheme = 'deb_system'
        elif prefix.endswith('/local'):
            scheme = 'posix_local'
            base = prefix[:-len('/local')] or '/'
        else:
            scheme = 'posix_prefix'
    vars = {'base': base, 'platbase': base}
    if scheme:
        return sysconfig.get_path('platlib', scheme, vars=vars)
    return sysconfig.get_path('platlib', vars=vars)


def main(argv):
    if len(argv) == 2 and argv[1] == 'build':
        print(build_info())
    elif len(argv) == 3 and argv[1] == 'platlib':
        print(platlib(argv[2]))
    else:
        print('usage: pyconfig.py build | platlib PREFIX', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
