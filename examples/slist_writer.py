#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""slist_writer.py NAME: write a ShareableList for a C program to read.

Creates multiprocessing.shared_memory.ShareableList([...], name=NAME) (a
/dev/shm segment, which a C program opens with sealshm_slist_attach() and
SEALSHM_POSIX), fills it, and leaves it for the reader, who unlinks it:
see slist_from_python.c, which runs this script.

The segment must outlive this process, so it is taken off Python's resource
tracker, which would otherwise unlink it (and warn about a "leak") when the
process ends.  On Python 3.13+ ShareableList's SharedMemory could be made with
track=False instead; unregistering works on 3.9 and later.
"""
import sys
from multiprocessing import resource_tracker, shared_memory


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: slist_writer.py NAME")
    items = ['written by Python', b'\x00raw\xff', 3.25, -7, None, True,
             'gr\u00fc\u00df dich']
    sl = shared_memory.ShareableList(items, name=sys.argv[1])
    resource_tracker.unregister(sl.shm._name, 'shared_memory')
    sl[3] = 2 ** 40          # an int stays "q"
    print(f'slist_writer.py: wrote {len(sl)} items to {sl.shm.name!r}, '
          f'format {sl.format!r}', flush=True)
    sl.shm.close()


if __name__ == '__main__':
    main()
