/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text a program printed: whether it has a given line.
 */
#ifndef SEALSHM_SELFTESTS_LIB_TEXT_H
#define SEALSHM_SELFTESTS_LIB_TEXT_H

#include <stdbool.h>

/* The line @fmt... (printf) is one of @text's lines, whole (at most 1023
 * bytes). */
__attribute__((format(printf, 2, 3)))
bool helper_has_line(const char *text, const char *fmt, ...);

#endif /* SEALSHM_SELFTESTS_LIB_TEXT_H */
