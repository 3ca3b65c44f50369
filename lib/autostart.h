/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting a per-user trackerd on demand, as CPython starts its resource
 * tracker.
 */
#ifndef SEALSHM_AUTOSTART_H
#define SEALSHM_AUTOSTART_H

/* Start a detached trackerd serving @path and return once it has either
 * bound the socket or found another one serving it.  Returns 0, -ENOPKG (no
 * executable trackerd at sealshm_trackerd_path()), -ECONNREFUSED (it failed:
 * its log, PATH.log, says why), -ENAMETOOLONG, or the spawn error. */
int sealshm__autostart(const char *path);

#endif /* SEALSHM_AUTOSTART_H */
