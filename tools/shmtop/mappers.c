// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mappers: /proc/<pid>/maps scanning (see mappers.h).  One pass over /proc
 * per frame for all segments: an inode -> segment hash is built first, so
 * each maps line costs one parse and at most one lookup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mappers.h"

/* Read size; one maps line is at most ~4.2 KiB (a PATH_MAX path). */
#define MAPS_BUF_SIZE	(64 * 1024)

/* --- parsing --------------------------------------------------------------- */
static int parse_hex(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end)
		return -EINVAL;
	for (; s < end; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (v >> 60)
			return -EINVAL;
		v = v << 4 | d;
	}
	if (s == *p)
		return -EINVAL;
	*p = s;
	*ret = v;
	return 0;
}

static int parse_dec(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;

	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s == *p)
		return -EINVAL;
	*p = s;
	*ret = v;
	return 0;
}

static int expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

/* "start-end perms offset major:minor inode   path" (proc(5)). */
int maps_parse_line(const char *line, size_t len, struct maps_line *ret)
{
	const char *p = line, *end = line + len;
	uint64_t off, major, minor;
	struct maps_line m = { .path = "" };

	if (parse_hex(&p, end, &m.start) < 0 || expect(&p, end, '-') < 0 ||
	    parse_hex(&p, end, &m.end) < 0 || expect(&p, end, ' ') < 0)
		return -EINVAL;
	/* Permissions: four characters such as "rw-s". */
	if (end - p < 5 || p[4] != ' ')
		return -EINVAL;
	p += 5;
	if (parse_hex(&p, end, &off) < 0 || expect(&p, end, ' ') < 0 ||
	    parse_hex(&p, end, &major) < 0 || expect(&p, end, ':') < 0 ||
	    parse_hex(&p, end, &minor) < 0 || expect(&p, end, ' ') < 0 ||
	    parse_dec(&p, end, &m.ino) < 0)
		return -EINVAL;
	if (m.end < m.start || major > UINT32_MAX || minor > UINT32_MAX)
		return -EINVAL;
	if (p < end && *p != ' ')
		return -EINVAL;
	while (p < end && *p == ' ')
		p++;
	m.dev_major = (uint32_t)major;
	m.dev_minor = (uint32_t)minor;
	m.path = p;
	m.path_len = (size_t)(end - p);
	*ret = m;
	return 0;
}

/* --- inode -> segment index ------------------------------------------------ */
struct ino_hash {
	uint64_t *keys;		/* 0: empty (no memfd has inode 0) */
	uint32_t *vals;
	size_t mask;
};

static size_t ino_slot(uint64_t ino, size_t mask)
{
	/* Inode numbers are mostly sequential: mix them (Fibonacci hashing). */
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 17) & mask;
}

static int ino_hash_build(const uint64_t *inos, size_t n, struct ino_hash *h)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	h->keys = calloc(size, sizeof(*h->keys));
	h->vals = calloc(size, sizeof(*h->vals));
	if (!h->keys || !h->vals)
		return -ENOMEM;
	h->mask = size - 1;
	for (size_t i = 0; i < n; i++) {
		size_t s = ino_slot(inos[i], h->mask);

		if (inos[i] == 0)
			continue;
		while (h->keys[s] && h->keys[s] != inos[i])
			s = (s + 1) & h->mask;
		if (h->keys[s])
			continue;	/* the same inode twice: the first wins */
		h->keys[s] = inos[i];
		h->vals[s] = (uint32_t)i;
	}
	return 0;
}

static bool ino_hash_get(const struct ino_hash *h, uint64_t ino, uint32_t *ret)
{
	size_t s = ino_slot(ino, h->mask);

	if (ino == 0)
		return false;
	for (; h->keys[s]; s = (s + 1) & h->mask)
		if (h->keys[s] == ino) {
			*ret = h->vals[s];
			return true;
		}
	return false;
}

static void ino_hash_done(struct ino_hash *h)
{
	free(h->keys);
	free(h->vals);
}

/* --- the device memfds live on ----------------------------------------------- */
/* Every memfd is a file of the kernel's internal shmem mount (hugetlb ones
 * aside, which sealshm never makes): our own memfd tells its device. */
static int memfd_device(uint32_t *ret_major, uint32_t *ret_minor)
{
	struct stat st;
	int fd, r = 0;

	fd = memfd_create("shmtop-probe", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	(void)close(fd);
	if (r < 0)
		return r;
	*ret_major = major(st.st_dev);
	*ret_minor = minor(st.st_dev);
	return 0;
}

/* --- the scan ----------------------------------------------------------------- */
struct hit {
	uint32_t seg;
	uint64_t bytes;
};

struct scan {
	const struct ino_hash *hash;
	bool dev_known;
	uint32_t dev_major, dev_minor;
	/* This process's hits: segment -> index in hits, valid when
	 * seen_pid[segment] is the current pid (pid 0 is never scanned). */
	uint32_t *seen_pid;
	uint32_t *seen_at;
	struct hit *hits;
	size_t n_hits, cap_hits;
	char *buf;
};

static int scan_line(struct scan *sc, uint32_t pid, const char *line, size_t len)
{
	struct maps_line m;
	uint32_t seg;

	if (maps_parse_line(line, len, &m) < 0 || m.ino == 0)
		return 0;
	if (sc->dev_known) {
		if (m.dev_major != sc->dev_major || m.dev_minor != sc->dev_minor)
			return 0;
	} else if (m.path_len < 7 || memcmp(m.path, "/memfd:", 7) != 0) {
		return 0;	/* no memfd of our own to learn the device from */
	}
	if (!ino_hash_get(sc->hash, m.ino, &seg))
		return 0;

	if (sc->seen_pid[seg] == pid) {
		sc->hits[sc->seen_at[seg]].bytes += m.end - m.start;
		return 0;
	}
	if (sc->n_hits == sc->cap_hits) {
		size_t cap = sc->cap_hits ? 2 * sc->cap_hits : 16;
		struct hit *p = reallocarray(sc->hits, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		sc->hits = p;
		sc->cap_hits = cap;
	}
	sc->seen_pid[seg] = pid;
	sc->seen_at[seg] = (uint32_t)sc->n_hits;
	sc->hits[sc->n_hits++] = (struct hit){ .seg = seg, .bytes = m.end - m.start };
	return 0;
}

/* Read @pid's maps through @fd (consumed) into sc->hits.  Returns 0, or
 * -ESRCH when the process went away meanwhile, or -ENOMEM. */
static int scan_maps(struct scan *sc, uint32_t pid, int fd)
{
	size_t have = 0;
	int r = 0;

	sc->n_hits = 0;
	for (;;) {
		ssize_t n = read(fd, sc->buf + have, MAPS_BUF_SIZE - have);
		size_t done = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -ESRCH;	/* it exited, or its mm is gone */
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		for (;;) {
			char *nl = memchr(sc->buf + done, '\n', have - done);

			if (!nl)
				break;
			r = scan_line(sc, pid, sc->buf + done, (size_t)(nl - (sc->buf + done)));
			if (r < 0)
				goto out;
			done = (size_t)(nl - sc->buf) + 1;
		}
		if (done == 0 && have == MAPS_BUF_SIZE) {
			have = 0;	/* a line longer than any maps line: drop it */
			continue;
		}
		memmove(sc->buf, sc->buf + done, have - done);
		have -= done;
	}
out:
	(void)close(fd);
	return r;
}

static void read_comm(int proc_fd, uint32_t pid, char comm[MAPPER_COMM_MAX])
{
	char path[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%u/comm", pid);
	strcpy(comm, "?");
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, MAPPER_COMM_MAX - 1);
	(void)close(fd);
	if (n <= 0) {
		strcpy(comm, "?");
		return;
	}
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

static int mapper_set_add(struct mapper_set *set, uint32_t pid, const char *comm, uint64_t bytes)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 4;
		struct mapper *p = reallocarray(set->v, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		set->v = p;
		set->cap = cap;
	}
	set->v[set->n] = (struct mapper){ .pid = pid, .bytes = bytes };
	snprintf(set->v[set->n].comm, sizeof(set->v[set->n].comm), "%s", comm);
	set->n++;
	return 0;
}

int mappers_scan(const uint64_t *inos, size_t n, struct mapper_set *sets,
		 struct mappers_totals *ret_totals)
{
	struct mappers_totals totals = { 0 };
	struct ino_hash hash = { 0 };
	struct scan sc = { .hash = &hash };
	struct dirent *de;
	DIR *proc = NULL;
	int r;

	if (n > UINT32_MAX)
		return -E2BIG;
	r = ino_hash_build(inos, n, &hash);
	if (r < 0)
		goto out;
	sc.dev_known = memfd_device(&sc.dev_major, &sc.dev_minor) == 0;
	sc.seen_pid = calloc(n ? n : 1, sizeof(*sc.seen_pid));
	sc.seen_at = calloc(n ? n : 1, sizeof(*sc.seen_at));
	sc.buf = malloc(MAPS_BUF_SIZE);
	if (!sc.seen_pid || !sc.seen_at || !sc.buf) {
		r = -ENOMEM;
		goto out;
	}

	proc = opendir("/proc");
	if (!proc) {
		r = -errno;
		goto out;
	}
	while ((de = readdir(proc))) {
		char path[32], comm[MAPPER_COMM_MAX];
		unsigned long pid;
		char *end;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtoul(de->d_name, &end, 10);
		if (*end || pid > UINT32_MAX)
			continue;
		snprintf(path, sizeof(path), "%lu/maps", pid);
		fd = openat(dirfd(proc), path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			/* ENOENT/ESRCH: it exited; EACCES/EPERM: ptrace
			 * rules keep another user's maps from us. */
			if (errno == EACCES || errno == EPERM)
				totals.unreadable++;
			continue;
		}
		r = scan_maps(&sc, (uint32_t)pid, fd);
		if (r == -ESRCH)
			continue;
		if (r < 0)
			goto out;
		totals.scanned++;
		if (sc.n_hits == 0)
			continue;
		read_comm(dirfd(proc), (uint32_t)pid, comm);
		for (size_t i = 0; i < sc.n_hits; i++) {
			r = mapper_set_add(&sets[sc.hits[i].seg], (uint32_t)pid, comm,
					   sc.hits[i].bytes);
			if (r < 0)
				goto out;
		}
	}
	r = 0;
	if (ret_totals)
		*ret_totals = totals;
out:
	if (proc)
		closedir(proc);
	free(sc.seen_pid);
	free(sc.seen_at);
	free(sc.hits);
	free(sc.buf);
	ino_hash_done(&hash);
	return r;
}

void mapper_set_done(struct mapper_set *set)
{
	free(set->v);
	*set = (struct mapper_set){ 0 };
}
