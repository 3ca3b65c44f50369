// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * listing_shim.so: preloaded (LD_PRELOAD) into a tool under test, it stands
 * in for the library's sealshm_registry_list() and sealshm_stat() as a
 * library that let any name through would: the names a hostile or older
 * trackerd could send reach the tool as they were sent.  The library
 * itself refuses such replies (-EBADMSG), so this is the only way to show
 * what the tools print of them.  Nothing else is replaced: the tool still
 * talks to the test's trackerd for everything else.
 *
 * The names are hostile_names[] of hostile_names.h, which the tests
 * include to know what to expect; sealshm_stat() of any name answers with
 * the one of index $SEALSHM_TEST_SHIM_STAT (default 0).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sealshm.h"

#include "hostile_names.h"

static void fill(struct sealshm_info *info, size_t i)
{
	const char *name = hostile_names[i].name;
	size_t len = strlen(name);

	memset(info, 0, sizeof(*info));
	if (len >= sizeof(info->name))
		len = sizeof(info->name) - 1;
	memcpy(info->name, name, len);
	info->size = 4096 * (i + 1);
	info->uid = (uint32_t)geteuid();
	info->gid = (uint32_t)getegid();
	info->mode = 0600;
	info->seals = SEALSHM_SEAL_SHRINK | SEALSHM_SEAL_GROW;
	info->ctime_ns = (int64_t)time(NULL) * 1000000000;
	info->creator_pid = (uint32_t)getpid();
	info->ino = 1000 + i;
}

int sealshm_registry_list(const struct sealshm_opts *opts, struct sealshm_info **ret_infos)
{
	size_t n = HOSTILE_NAMES_N;
	struct sealshm_info *infos = calloc(n, sizeof(*infos));

	(void)opts;
	if (!infos) {
		errno = ENOMEM;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		fill(&infos[i], i);
	*ret_infos = infos;
	return (int)n;
}

int sealshm_stat(const char *name, const struct sealshm_opts *opts, struct sealshm_info *ret)
{
	const char *e = getenv("SEALSHM_TEST_SHIM_STAT");
	size_t i = e ? strtoul(e, NULL, 10) : 0;

	(void)name;
	(void)opts;
	if (i >= HOSTILE_NAMES_N) {
		errno = ENOENT;
		return -ENOENT;
	}
	fill(ret, i);
	return 0;
}
