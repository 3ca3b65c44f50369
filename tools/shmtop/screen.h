/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * screen: shmtop's interactive mode (ncurses).  A header with trackerd's
 * figures, a table of segments refreshed every interval, keys to sort,
 * filter, show one segment's details, change the interval, get help and
 * quit (shmtop(1), KEYS).  Data come from collect.h only.
 */
#ifndef SHMTOP_SCREEN_H
#define SHMTOP_SCREEN_H

#include "collect.h"

/* Run the interactive mode until 'q' (or cfg->frames refreshes).
 * Standard input and output must be terminals (main.c checks).  trackerd
 * must answer the first snapshot (taken before the terminal is set up);
 * later failures are shown on the screen and retried every interval.
 * Returns the exit status: 0, or 1 (message on stderr). */
int screen_run(const struct shmtop_config *cfg);

#endif /* SHMTOP_SCREEN_H */
