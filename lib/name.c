// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Segment names: what a valid name is, on the caller's side and on the
 * wire (the one place the rules live: the library, trackerd and, through
 * sealshm_check_name(), the tools and bindings apply them), and the
 * generated "psm_XXXXXXXX" names of anonymous segments.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"
#include "name.h"

/* What is wrong with a name, if anything (the phrases of
 * sealshm_check_name()). */
enum name_fault {
	NAME_OK,
	NAME_NULL,
	NAME_EMPTY,
	NAME_TOO_LONG,
	NAME_DOTS,
	NAME_SLASH,
	NAME_SPACE,		/* a space, or a control or separator character */
	NAME_UTF8,
	NAME_INVISIBLE,
};

/*
 * Characters beyond ASCII that no name may hold, sorted.  A listing shows
 * names as they are (sealshm ls, shmtop, logs), so a name must not be able
 * to look like another one, like nothing at all, or rearrange the text
 * around it:
 *  - C1 controls (a terminal may obey them: U+009B is CSI);
 *  - separators: every space character (Zs) and the line and paragraph
 *    separators (Zl, Zp), as ASCII space is refused: a name never looks
 *    blank, cut in two, or spread over two lines;
 *  - Unicode's Default_Ignorable_Code_Point characters, which renderers draw
 *    as nothing: zero-width characters and joiners, the bidirectional
 *    marks, embeddings, overrides and isolates (a U+202E can show
 *    "report\u202Efdp.exe" as "reportexe.pdf"), invisible operators, Hangul
 *    fillers, the BOM, tags, and the code points Unicode reserves as
 *    default-ignorable (invisible once assigned).  Not the variation
 *    selectors (U+180B..U+180D, U+180F, U+FE00..U+FE0F, U+E0100..U+E01EF):
 *    they only pick the glyph of the character before them, and emoji
 *    need U+FE0F.
 * Everything else stays: letters and marks of every script, symbols,
 * emoji, unassigned and private-use code points.  Names are compared byte
 * for byte, not normalised, so names that look alike (homoglyphs,
 * precomposed and combining accents) stay distinct names.
 */
static const struct refused_range {
	uint32_t first, last;
	bool invisible;		/* else a control or separator */
} refused[] = {
	{ 0x0080, 0x009f, false },	/* C1 controls */
	{ 0x00a0, 0x00a0, false },	/* no-break space */
	{ 0x00ad, 0x00ad, true },	/* soft hyphen */
	{ 0x034f, 0x034f, true },	/* combining grapheme joiner */
	{ 0x061c, 0x061c, true },	/* Arabic letter mark */
	{ 0x115f, 0x1160, true },	/* Hangul choseong, jungseong fillers */
	{ 0x1680, 0x1680, false },	/* Ogham space mark */
	{ 0x17b4, 0x17b5, true },	/* Khmer inherent vowels */
	{ 0x180e, 0x180e, true },	/* Mongolian vowel separator */
	{ 0x2000, 0x200a, false },	/* en quad .. hair space */
	{ 0x200b, 0x200f, true },	/* zero width space, (non-)joiner, LRM, RLM */
	{ 0x2028, 0x2029, false },	/* line, paragraph separators */
	{ 0x202a, 0x202e, true },	/* bidirectional embeddings and overrides */
	{ 0x202f, 0x202f, false },	/* narrow no-break space */
	{ 0x205f, 0x205f, false },	/* medium mathematical space */
	{ 0x2060, 0x206f, true },	/* word joiner, invisible operators, isolates,
					 * deprecated format characters */
	{ 0x3000, 0x3000, false },	/* ideographic space */
	{ 0x3164, 0x3164, true },	/* Hangul filler */
	{ 0xfeff, 0xfeff, true },	/* zero width no-break space (BOM) */
	{ 0xffa0, 0xffa0, true },	/* halfwidth Hangul filler */
	{ 0xfff0, 0xfff8, true },	/* reserved, default-ignorable */
	{ 0x1bca0, 0x1bca3, true },	/* shorthand format controls */
	{ 0x1d173, 0x1d17a, true },	/* musical symbol format controls */
	{ 0xe0000, 0xe00ff, true },	/* tags, and reserved default-ignorable */
	{ 0xe01f0, 0xe0fff, true },	/* reserved, default-ignorable */
};

static const struct refused_range *refused_find(uint32_t cp)
{
	for (size_t i = 0; i < ELEMENTSOF(refused) && refused[i].first <= cp; i++)
		if (cp <= refused[i].last)
			return &refused[i];
	return NULL;
}

/* Decode the well-formed UTF-8 sequence at @s (at most @left bytes) into
 * *@ret_cp and return its length, or 0.  Rejects overlong forms,
 * surrogates and code points above U+10FFFF (RFC 3629), so one name has
 * exactly one spelling.  tools/escape.c decodes alike: the tools see only
 * the public API. */
static size_t name_utf8_char(const unsigned char *s, size_t left, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] >= 0xc0 && s[0] <= 0xdf) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;	/* a stray continuation byte, or 0xf5..0xff */
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

/* The first thing wrong with @name; on NAME_OK *@ret_name points past its
 * '/', on NAME_SPACE and NAME_INVISIBLE *@ret_cp is the character. */
static enum name_fault name_fault(const char *name, const char **ret_name, uint32_t *ret_cp)
{
	const unsigned char *s;
	size_t len;

	if (!name)
		return NAME_NULL;
	/* POSIX shm_open() users write "/name"; accept exactly one slash. */
	if (name[0] == '/')
		name++;

	len = strnlen(name, SEALSHM_NAME_MAX + 1);
	if (len == 0)
		return NAME_EMPTY;
	if (len > SEALSHM_NAME_MAX)
		return NAME_TOO_LONG;
	/* Path components that mean this or the parent directory: a name is
	 * also a file name (/dev/shm/NAME with SEALSHM_POSIX). */
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return NAME_DOTS;

	s = (const unsigned char *)name;
	for (size_t i = 0; i < len;) {
		const struct refused_range *r;
		uint32_t cp;
		size_t n;

		if (s[i] < 0x80) {
			if (s[i] == '/')
				return NAME_SLASH;
			/* Printable ASCII without space: names show up in
			 * logs and `sealshm ls` columns unquoted. */
			if (s[i] <= ' ' || s[i] == 0x7f) {
				*ret_cp = s[i];
				return NAME_SPACE;
			}
			i++;
			continue;
		}
		n = name_utf8_char(s + i, len - i, &cp);
		if (n == 0)
			return NAME_UTF8;
		r = refused_find(cp);
		if (r) {
			*ret_cp = cp;
			return r->invisible ? NAME_INVISIBLE : NAME_SPACE;
		}
		i += n;
	}

	if (ret_name)
		*ret_name = name;
	return NAME_OK;
}

int sealshm__name_check(const char *name, const char **ret_name)
{
	uint32_t cp;

	return name_fault(name, ret_name, &cp) == NAME_OK ? 0 : -EINVAL;
}

int sealshm_check_name(const char *name, const char **reterr_reason)
{
	/* Room for the longest phrase with a code point of six hex digits. */
	static _Thread_local char buf[80];
	const char *reason = NULL;
	uint32_t cp = 0;

	switch (name_fault(name, NULL, &cp)) {
	case NAME_OK:
		return 0;
	case NAME_NULL:
		reason = "is NULL";
		break;
	case NAME_EMPTY:
		reason = "is empty";
		break;
	case NAME_TOO_LONG:
		reason = "is longer than 255 bytes";
		break;
	case NAME_DOTS:
		reason = "is \".\" or \"..\"";
		break;
	case NAME_SLASH:
		reason = "has a '/' after its first byte";
		break;
	case NAME_SPACE:
		(void)snprintf(buf, sizeof(buf), "has a space or control character (U+%04" PRIX32 ")",
			       cp);
		reason = buf;
		break;
	case NAME_UTF8:
		reason = "is not well-formed UTF-8";
		break;
	case NAME_INVISIBLE:
		(void)snprintf(buf, sizeof(buf),
			       "has an invisible or bidirectional control character (U+%04" PRIX32 ")",
			       cp);
		reason = buf;
		break;
	}
	_Static_assert(SEALSHM_NAME_MAX == 255, "the phrase says 255 bytes");
	if (reterr_reason)
		*reterr_reason = reason;
	return sealshm__err(-EINVAL);
}

int sealshm__name_check_field(const char field[SEALSHM_PROTO_NAME_SIZE])
{
	const char *nul = memchr(field, 0, SEALSHM_PROTO_NAME_SIZE);

	if (!nul || nul == field)
		return -EINVAL;
	/* Zero padding is part of the format: it keeps stale bytes from
	 * leaking across the socket and makes the field comparable as a whole. */
	for (const char *p = nul; p < field + SEALSHM_PROTO_NAME_SIZE; p++)
		if (*p != 0)
			return -EINVAL;
	return 0;
}

int sealshm__name_check_wire(const char field[SEALSHM_PROTO_NAME_SIZE])
{
	const char *name;
	int r;

	r = sealshm__name_check_field(field);
	if (r < 0)
		return r;
	r = sealshm__name_check(field, &name);
	if (r < 0)
		return r;
	/* The library drops the leading '/' before sending. */
	if (name != field)
		return -EINVAL;
	return 0;
}

int sealshm__name_random(char *buf, size_t len)
{
	static uint32_t counter;
	uint32_t v;

	if (len < sizeof("psm_12345678"))
		return -EINVAL;

	/* GRND_NONBLOCK: early at boot the pool may not be ready, and a name
	 * only needs to be unlikely to collide (collisions are retried), not
	 * unpredictable. Fall back to time, pid and a counter then. */
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
		struct timespec ts;

		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u ^
		    (uint32_t)getpid() << 16 ^
		    __atomic_add_fetch(&counter, 0x9e3779b9u, __ATOMIC_RELAXED);
	}

	(void)snprintf(buf, len, "psm_%08x", v);
	return 0;
}
