// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Segment names: what a valid name is, on the caller's side and on the
 * wire, and the generated "psm_XXXXXXXX" names of anonymous segments.
 */
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"
#include "name.h"

/* Length of the well-formed UTF-8 sequence at @s (at most @left bytes) if it
 * encodes a character beyond ASCII that is not a C1 control, else 0.
 * Rejects overlong forms, surrogates and code points above U+10FFFF
 * (RFC 3629), so one name has exactly one spelling. */
static size_t utf8_char_len(const unsigned char *s, size_t left)
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
	if (cp <= 0x9f)		/* U+0080..U+009F: C1 control characters */
		return 0;
	return n;
}

int sealshm__name_check(const char *name, const char **ret_name)
{
	const unsigned char *s;
	size_t len;

	if (!name)
		return -EINVAL;
	/* POSIX shm_open() users write "/name"; accept exactly one slash. */
	if (name[0] == '/')
		name++;

	len = strnlen(name, SEALSHM_NAME_MAX + 1);
	if (len == 0 || len > SEALSHM_NAME_MAX)
		return -EINVAL;

	s = (const unsigned char *)name;
	for (size_t i = 0; i < len;) {
		if (s[i] < 0x80) {
			/* Printable ASCII without space: names show up in
			 * logs and `sealshm ls` columns unquoted. */
			if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '/')
				return -EINVAL;
			i++;
		} else {
			size_t n = utf8_char_len(s + i, len - i);

			if (n == 0)
				return -EINVAL;
			i += n;
		}
	}

	if (ret_name)
		*ret_name = name;
	return 0;
}

int sealshm__name_check_wire(const char field[SEALSHM_PROTO_NAME_SIZE])
{
	const char *nul = memchr(field, 0, SEALSHM_PROTO_NAME_SIZE);
	const char *name;
	int r;

	if (!nul)
		return -EINVAL;
	/* Zero padding is part of the format: it keeps stale bytes from
	 * leaking across the socket and makes the field comparable as a whole. */
	for (const char *p = nul; p < field + SEALSHM_PROTO_NAME_SIZE; p++)
		if (*p != 0)
			return -EINVAL;

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
