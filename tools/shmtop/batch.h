/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * batch: shmtop -b, as top -b: no terminal setup and no key reading, frames
 * written to standard output one after the other, in plain text with
 * stable columns (shmtop(1), BATCH FORMAT) or as one JSON object per line
 * (--json, shmtop(1), JSON).
 */
#ifndef SHMTOP_BATCH_H
#define SHMTOP_BATCH_H

#include <stdio.h>

#include "collect.h"

/* One frame of @s in plain text, segments as @view orders them. */
void batch_text_frame(FILE *f, const struct snapshot *s, const struct segment *const *view,
		      size_t n);

/* One frame of @s as one line of JSON. */
void batch_json_frame(FILE *f, const struct snapshot *s, const struct segment *const *view,
		      size_t n);

/* Write @s (NUL-terminated) as a JSON string: quotes, backslashes and
 * control characters escaped, characters that do not show as themselves
 * (escape.h: C1 controls, separators, invisible and bidirectional
 * controls) as \uXXXX escapes, invalid UTF-8 replaced by U+FFFD. */
void json_string(FILE *f, const char *s);

/* Run batch mode as @cfg says.  Returns the exit status: 0, or 1 when
 * trackerd cannot be reached or standard output fails (message on
 * stderr). */
int batch_run(const struct shmtop_config *cfg);

#endif /* SHMTOP_BATCH_H */
