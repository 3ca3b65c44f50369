// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library version at run time, for callers that must tell which
 * libsealshm.so.0 the dynamic linker gave them.
 */
#include "internal.h"

#ifndef SEALSHM_VERSION
#define SEALSHM_VERSION "0.1.0"
#endif

const char *sealshm_version(void)
{
	return SEALSHM_VERSION;
}
