/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names a trackerd of another version, or a hostile one, may list though a
 * current trackerd refuses them (and two valid ones: one that looks like an
 * escape, one beyond ASCII), and how the tools must show them: every
 * character that is no valid name character escaped, the rest as it is.
 * hostile_names_serve() starts a fake trackerd (lib/fake_trackerd.h) that
 * lists them all.  Include it after helpers.h.
 */
#ifndef SEALSHM_SELFTESTS_HOSTILE_NAMES_H
#define SEALSHM_SELFTESTS_HOSTILE_NAMES_H

#include <stddef.h>

#include "lib/fake_trackerd.h"

static const struct {
	const char *name;	/* as a trackerd sent it */
	const char *shown;	/* as sealshm ls/stat and shmtop -b show it */
	const char *json;	/* as shmtop --json writes it, quotes included */
} hostile_names[] = {
	/* An OSC sequence that sets the terminal's title, then BEL. */
	{ "esc\x1b]0;owned\x07", "esc\\x1b]0;owned\\x07", "\"esc\\u001b]0;owned\\u0007\"" },
	/* CSI as a C1 control (U+009B), then "2J": clear the screen. */
	{ "csi\xc2\x9b" "2J", "csi\\u{009b}2J", "\"csi\\u009b2J\"" },
	/* U+202E: "rlo" + "fdp.exe" would show as "rloexe.pdf". */
	{ "rlo\xe2\x80\xae" "fdp.exe", "rlo\\u{202e}fdp.exe", "\"rlo\\u202efdp.exe\"" },
	{ "new\nline", "new\\x0aline", "\"new\\nline\"" },
	{ "sp ace\t", "sp\\x20ace\\x09", "\"sp ace\\t\"" },
	{ "bad\xff\xfeutf8", "bad\\xff\\xfeutf8", "\"bad\\ufffd\\ufffdutf8\"" },
	{ "zw\xe2\x80\x8bj", "zw\\u{200b}j", "\"zw\\u200bj\"" },
	/* A tag character: beyond the BMP, a surrogate pair in JSON. */
	{ "tag\xf3\xa0\x80\x81", "tag\\u{e0001}", "\"tag\\udb40\\udc01\"" },
	/* Valid names: a backslash is doubled (no name shows as another's
	 * escape), other characters show as themselves. */
	{ "back\\x41", "back\\\\x41", "\"back\\\\x41\"" },
	{ "caf\xc3\xa9_\xe2\x9d\xa4\xef\xb8\x8f", "caf\xc3\xa9_\xe2\x9d\xa4\xef\xb8\x8f",
	  "\"caf\xc3\xa9_\xe2\x9d\xa4\xef\xb8\x8f\"" },
};

#define HOSTILE_NAMES_N (sizeof(hostile_names) / sizeof(hostile_names[0]))

/* Start @f on @path (in the test's temp dir): a fake trackerd that lists
 * every name above, in this order, and answers STAT for each.  0 or -errno. */
static inline int hostile_names_serve(struct fake_trackerd *f, const char *path)
{
	const char *names[HOSTILE_NAMES_N + 1];

	for (size_t i = 0; i < HOSTILE_NAMES_N; i++)
		names[i] = hostile_names[i].name;
	names[HOSTILE_NAMES_N] = NULL;
	return fake_trackerd_start(f, path, names, 0);
}

#endif /* SEALSHM_SELFTESTS_HOSTILE_NAMES_H */
