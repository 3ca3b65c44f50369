/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pause points, for tests only: they make a race that needs luck to hit
 * happen every time.  $SEALSHM_TEST_PAUSE="POINT:FD" makes the library,
 * when it reaches the point named POINT, write "POINT\n" to FD and then
 * wait until one byte can be read from it (FD: one end of a socketpair
 * the test hands down).  Unset, a point costs one getenv().
 */
#ifndef SEALSHM_TESTHOOK_H
#define SEALSHM_TESTHOOK_H

/* The points. */
#define SEALSHM__PAUSE_BEFORE_TRACK	"before-track"	/* fast attach: checked, not yet tracked */

void sealshm__test_pause(const char *point);

#endif /* SEALSHM_TESTHOOK_H */
