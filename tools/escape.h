/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Showing names: what the tools print of a segment name (or any text a
 * trackerd or another process controls) must never act on a terminal,
 * hide, or rearrange what is around it.  trackerd refuses such names, but
 * an older or hostile one may send anything.  The rule of what shows as
 * itself is sealshm_check_name()'s: a character a name may hold does.
 * Shared by the programs under tools/; public API only.
 */
#ifndef SEALSHM_TOOLS_ESCAPE_H
#define SEALSHM_TOOLS_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sealshm.h>

/* Room for any name escaped: at most 4 bytes out per byte in, plus the NUL. */
#define ESCAPED_NAME_MAX (4 * SEALSHM_NAME_MAX + 1)

/* Decode the well-formed UTF-8 sequence at @s (RFC 3629: no overlong
 * forms, surrogates or code points past U+10FFFF; a NUL ends it) into
 * *@ret_cp.  Returns its length, 1 to 4, or 0 when it is not one. */
size_t utf8_decode(const char *s, uint32_t *ret_cp);

/* Whether the character @cp, beyond ASCII, shows as itself: a name may
 * hold it.  C1 controls, spaces and separators, invisible and
 * bidirectional control characters do not. */
bool shows_as_itself(uint32_t cp);

/* @s (NUL-terminated) as it is shown, into @buf of @len bytes (>= 1):
 * printable ASCII but space and '\' as itself, '\' as "\\"; a character
 * beyond ASCII that shows as itself as its UTF-8 bytes; any other
 * character as "\u{XXXX}" (lowercase hex, at least four digits); any other
 * byte (controls, space, DEL, bytes that are no UTF-8) as "\xNN".  So every
 * output is printable, and two strings never show the same.  Cut at a
 * character, never inside an escape, when @buf is too small
 * (ESCAPED_NAME_MAX holds any name).  Returns @buf. */
char *escape_name(const char *s, char *buf, size_t len);

#endif /* SEALSHM_TOOLS_ESCAPE_H */
