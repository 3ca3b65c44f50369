// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Showing names (see escape.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"

size_t utf8_decode(const char *str, uint32_t *ret_cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp, min;
	size_t n;

	if (s[0] >= 0xc0 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		/* A NUL stops here too: it is no continuation byte. */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

bool shows_as_itself(uint32_t cp)
{
	char one[5];
	int saved = errno;
	bool ok;

	if (cp < 0x80 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	/* The character alone, as a name: the library's rules are the one
	 * list of what may not show (no copy of it here). */
	if (cp < 0x800) {
		one[0] = (char)(0xc0 | cp >> 6);
		one[1] = (char)(0x80 | (cp & 0x3f));
		one[2] = '\0';
	} else if (cp < 0x10000) {
		one[0] = (char)(0xe0 | cp >> 12);
		one[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		one[2] = (char)(0x80 | (cp & 0x3f));
		one[3] = '\0';
	} else {
		one[0] = (char)(0xf0 | cp >> 18);
		one[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		one[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		one[3] = (char)(0x80 | (cp & 0x3f));
		one[4] = '\0';
	}
	ok = sealshm_check_name(one, NULL) == 0;
	errno = saved;	/* callers print errors after this */
	return ok;
}

char *escape_name(const char *s, char *buf, size_t len)
{
	size_t out = 0;

	while (*s) {
		unsigned char c = (unsigned char)*s;
		char esc[16];
		size_t n = 1, elen;
		uint32_t cp;

		if (c > ' ' && c < 0x7f && c != '\\') {
			esc[0] = (char)c;
			esc[1] = '\0';
		} else if (c == '\\') {
			snprintf(esc, sizeof(esc), "\\\\");
		} else if (c >= 0x80 && (n = utf8_decode(s, &cp)) > 0) {
			if (shows_as_itself(cp)) {
				memcpy(esc, s, n);
				esc[n] = '\0';
			} else {
				snprintf(esc, sizeof(esc), "\\u{%04x}", (unsigned int)cp);
			}
		} else {
			n = 1;
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		}
		elen = strlen(esc);
		if (out + elen + 1 > len)
			break;
		memcpy(buf + out, esc, elen);
		out += elen;
		s += n;
	}
	buf[out] = '\0';
	return buf;
}
