# SPDX-License-Identifier: LGPL-2.1-or-later
"""What bench/*.py share: a trackerd of the bench's own, started on demand
on a private socket (the one bundled beside the extension) and stopped at
the end.

Import this module before sealshm: unless SEALSHM_SOCKET is set already,
importing it points SEALSHM_SOCKET at a socket in a private directory and
turns autostart on, so the first call starts that trackerd.  Then run the
bench's main() with run(main).
"""

import os
import signal
import tempfile

_PRIVATE = None
if not os.environ.get('SEALSHM_SOCKET'):
    _PRIVATE = tempfile.TemporaryDirectory(prefix='sealshm-pybench.')
    os.environ['SEALSHM_SOCKET'] = os.path.join(_PRIVATE.name, 'trackerd.sock')
    os.environ.pop('SEALSHM_NO_AUTOSTART', None)


def stop_private_trackerd():
    if _PRIVATE is None:
        return
    from sealshm import _sealshm
    try:
        os.kill(_sealshm.registry_stats()['pid'], signal.SIGTERM)
    except (OSError, KeyError):
        pass
    _PRIVATE.cleanup()


def run(main):
    """Run @main(), then stop the private trackerd, whatever happened."""
    try:
        main()
    finally:
        stop_private_trackerd()
