// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SEALSHM_RESERVE: a segment's pages allocated at create (reserve.h).
 *
 * Why the checks: shmem pages come on first touch, and a touch that finds
 * no memory is a SIGBUS (a full /dev/shm: CPython's gh-114390) or an OOM
 * kill.  fallocate(2) moves the allocation to create time, but past a
 * memory cgroup's limit it too ends in the cgroup's OOM killer rather than
 * an error.  So the library compares what is left to allocate with what
 * the machine and the caller's memory cgroups have available, slice by
 * slice, and says -ENOMEM before it would get there.  What another process
 * allocates between a check and a slice can still win the race; that is
 * the kernel's to settle, as for any allocation.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>

#include "internal.h"
#include "reserve.h"

/* Allocated per fallocate() call, each after a fresh check. */
#define SLICE		(256ull << 20)
/* Left free beyond the segment: the caller's own next allocations. */
#define MARGIN		(32ull << 20)
#define CGROUP_ROOT	"/sys/fs/cgroup"

/* Read the small text file @path into @buf.  Returns its length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/* The number after "@key " (a "Key: value" or "key value" line) in @text,
 * times @unit; UINT64_MAX when there is none. */
static uint64_t field(const char *text, const char *key, uint64_t unit)
{
	size_t len = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, len) == 0 && (p[len] == ' ' || p[len] == ':' ||
						  p[len] == '\t')) {
			char *end;
			unsigned long long v = strtoull(p + len + 1, &end, 10);

			return end == p + len + 1 ? UINT64_MAX : v * unit;
		}
	}
	return UINT64_MAX;
}

/* A file holding one number ("max": UINT64_MAX). */
static uint64_t number(const char *dir, const char *file)
{
	char path[PATH_MAX + 64], buf[64];
	unsigned long long v;
	char *end;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path) ||
	    read_small(path, buf, sizeof(buf)) <= 0)
		return UINT64_MAX;
	v = strtoull(buf, &end, 10);
	return end == buf ? UINT64_MAX : v;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* What one memory cgroup directory has left: its limit less its usage,
 * with its inactive file pages (reclaimed first) counted as free;
 * UINT64_MAX when it has no limit or says nothing. */
static uint64_t cgroup_room(const char *dir, bool v2)
{
	char path[PATH_MAX + 64], stat[8192];
	uint64_t limit, usage, inactive = 0;

	limit = number(dir, v2 ? "memory.max" : "memory.limit_in_bytes");
	usage = number(dir, v2 ? "memory.current" : "memory.usage_in_bytes");
	if (limit == UINT64_MAX || usage == UINT64_MAX)
		return UINT64_MAX;
	if (snprintf(path, sizeof(path), "%s/memory.stat", dir) < (int)sizeof(path) &&
	    read_small(path, stat, sizeof(stat)) > 0) {
		inactive = field(stat, v2 ? "inactive_file" : "total_inactive_file", 1);
		if (inactive == UINT64_MAX)
			inactive = 0;
	}
	usage = usage > inactive ? usage - inactive : 0;
	return limit > usage ? limit - usage : 0;
}

/* The least room of the caller's memory cgroup and its ancestors. */
static uint64_t cgroups_room(void)
{
	char text[4096], dir[PATH_MAX];
	uint64_t room = UINT64_MAX;
	const char *path = NULL;
	size_t base_len;
	bool v2 = false;

	if (read_small("/proc/self/cgroup", text, sizeof(text)) <= 0)
		return UINT64_MAX;
	/* v1: "N:memory[,...]:/path"; else the unified "0::/path". */
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		if (strstr(c1 + 1, "memory")) {
			path = c2 + 1;
			v2 = false;
			break;
		}
		if (c1[1] == '\0' && strcmp(line, "0:") == 0) {
			path = c2 + 1;
			v2 = true;
		}
	}
	if (!path || snprintf(dir, sizeof(dir), "%s%s%s", CGROUP_ROOT, v2 ? "" : "/memory",
			      strcmp(path, "/") ? path : "") >= (int)sizeof(dir))
		return UINT64_MAX;
	base_len = strlen(CGROUP_ROOT) + (v2 ? 0 : strlen("/memory"));

	/* Up to the root: a parent's limit binds its children too. */
	for (;;) {
		char *slash;

		room = min_u64(room, cgroup_room(dir, v2));
		if (strlen(dir) <= base_len)
			break;
		slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < base_len)
			break;
		*slash = '\0';
	}
	return room;
}

/* What the caller may still allocate: the machine's and its cgroups'. */
static uint64_t available(void)
{
	char meminfo[8192];
	uint64_t avail = UINT64_MAX;

	if (read_small("/proc/meminfo", meminfo, sizeof(meminfo)) > 0)
		avail = field(meminfo, "MemAvailable", 1024);
	return min_u64(avail, cgroups_room());
}

int sealshm__reserve(int fd, uint64_t size)
{
	for (uint64_t off = 0; off < size;) {
		uint64_t left = size - off, slice = min_u64(left, SLICE);
		uint64_t avail = available();

		if (avail != UINT64_MAX && (left > avail || avail - left < MARGIN))
			return -ENOMEM;
		if (fallocate(fd, 0, (off_t)off, (off_t)slice) < 0)
			return -errno;
		off += slice;
	}
	return 0;
}
