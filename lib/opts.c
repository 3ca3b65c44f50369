// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Validation of caller-sized opts structs (libbpf's OPTS_VALID).
 */
#include "internal.h"

bool sealshm__opts_valid(const void *opts, size_t opts_sz, size_t known_sz)
{
	const unsigned char *p = opts;

	/* A caller built against an older header passes a shorter struct: the
	 * fields it lacks read as defaults through OPTS_GET(). A newer caller
	 * passes a longer one: accepted only if it leaves every field we do not
	 * know at zero, so a request for a feature we lack is never ignored. */
	for (size_t i = known_sz; i < opts_sz; i++)
		if (p[i] != 0)
			return false;
	return true;
}
