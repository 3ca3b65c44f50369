// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Test-only pause points (testhook.h).
 */
#include <limits.h>
#include <stdio.h>

#include "internal.h"
#include "testhook.h"

void sealshm__test_pause(const char *point)
{
	const char *e = secure_getenv("SEALSHM_TEST_PAUSE");
	size_t len = strlen(point);
	char line[64], c;
	char *end;
	long fd;

	if (!e || strncmp(e, point, len) != 0 || e[len] != ':')
		return;
	fd = strtol(e + len + 1, &end, 10);
	if (*end || fd < 3 || fd > INT_MAX)
		return;
	(void)snprintf(line, sizeof(line), "%s\n", point);
	if (write((int)fd, line, strlen(line)) < 0)
		return;
	while (read((int)fd, &c, 1) < 0 && errno == EINTR)
		;
}
