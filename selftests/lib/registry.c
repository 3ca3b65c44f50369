// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "sealshm.h"
#include "now.h"
#include "registry.h"

int helper_wait_gone(const char *name, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		struct sealshm_info info;
		int r = sealshm_stat(name, NULL, &info);

		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		if (helper_now_ms() >= end)
			return -ETIMEDOUT;
		helper_sleep_ms(5);
	}
}

int helper_wait_sessions(const char *name, uint32_t want, unsigned int timeout_ms,
			 struct sealshm_info *ret)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		int r = sealshm_stat(name, NULL, ret);

		if (r < 0)
			return r;
		if (ret->n_sessions == want)
			return 0;
		if (helper_now_ms() >= end)
			return -ETIMEDOUT;
		helper_sleep_ms(5);
	}
}

int helper_wait_names(int want, unsigned int timeout_ms)
{
	uint64_t end = helper_now_ms() + timeout_ms;

	for (;;) {
		struct sealshm_info *infos = NULL;
		int n = sealshm_registry_list(NULL, &infos);

		free(infos);
		if (n < 0 || n <= want || helper_now_ms() >= end)
			return n;
		helper_sleep_ms(10);
	}
}

bool library_works(void)
{
	struct sealshm *a = NULL, *b = NULL;
	bool ok = false;

	if (sealshm_create("well_behaved", 4096, NULL, &a) < 0)
		return false;
	((char *)sealshm_buf(a))[7] = 'w';
	if (sealshm_attach("well_behaved", NULL, &b) == 0)
		ok = ((char *)sealshm_buf(b))[7] == 'w';
	ok = sealshm_unlink(a) == 0 && ok;
	sealshm_close(a);
	sealshm_close(b);
	return ok;
}
