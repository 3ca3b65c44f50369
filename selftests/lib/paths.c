// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"

int helper_prog_path(const char *var, const char *rel, char *buf, size_t len)
{
	const char *e = getenv(var);
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (e && *e) {
		if ((size_t)snprintf(buf, len, "%s", e) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/%s", exe, rel) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int helper_trackerd_path(char *buf, size_t len)
{
	return helper_prog_path("SEALSHM_TRACKERD", "../trackerd/trackerd", buf, len);
}

int helper_peer_path(char *buf, size_t len)
{
	return helper_prog_path("SEALSHM_TEST_PEER", "peer", buf, len);
}

int helper_cli_path(char *buf, size_t len)
{
	return helper_prog_path("SEALSHM_TEST_CLI", "../tools/sealshm", buf, len);
}

int helper_examples_dir(char *buf, size_t len)
{
	return helper_prog_path("SEALSHM_TEST_EXAMPLES", "../examples", buf, len);
}
