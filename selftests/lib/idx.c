// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "index_format.h"
#include "internal.h"
#include "siphash.h"
#include "proto.h"
#include "idx.h"
#include "raw.h"

int raw_index(int sock, struct idx *x)
{
	struct sealshm_msg_hdr req = { .type = SEALSHM_MSG_INDEX, .size = sizeof(req), .seq = 41 };
	struct sealshm_msg_index_reply rep;
	ssize_t n;
	int fd;

	*x = (struct idx){ .fd = -EBADF, .map = MAP_FAILED };
	memset(&rep, 0, sizeof(rep));
	n = raw_call(sock, &req, sizeof(req), NULL, 0, &rep, sizeof(rep), &fd);
	if (n < (ssize_t)sizeof(rep.hdr)) {
		safe_close(fd);
		return n < 0 ? (int)n : -EIO;
	}
	if (rep.hdr.status != 0 || n != (ssize_t)sizeof(rep) || fd < 0) {
		safe_close(fd);
		return rep.hdr.status ? rep.hdr.status : -EBADMSG;
	}
	x->fd = fd;
	x->size = rep.size;
	x->map = mmap(NULL, x->size, PROT_READ, MAP_SHARED, fd, 0);
	return x->map == MAP_FAILED ? -errno : 0;
}

void idx_close(struct idx *x)
{
	if (x->map != MAP_FAILED)
		(void)munmap(x->map, x->size);
	x->map = MAP_FAILED;
	x->fd = safe_close(x->fd);
}

int idx_find(const struct idx *x, const char *name, struct sealshm_index_entry *ret,
	     uint32_t *ret_slot)
{
	const struct sealshm_index_header *h = x->map;
	const uint32_t *buckets = (const uint32_t *)((const char *)x->map + h->buckets_off);
	const struct sealshm_index_entry *e =
		(const void *)((const char *)x->map + h->entries_off);
	size_t len = strlen(name);

	for (int tries = 0; tries < 100; tries++) {
		uint64_t s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE), s2;
		uint32_t i = buckets[sealshm__siphash(name, len, h->hash_key) & (h->n_buckets - 1)];
		int found = -ENOENT;

		if (s1 & 1)
			continue;
		for (uint32_t hops = 0; i != 0 && hops <= h->capacity; hops++) {
			if (i > h->capacity)
				break;	/* torn: the seq check below fails */
			if (e[i - 1].name_len == len && !memcmp(e[i - 1].name, name, len)) {
				*ret = e[i - 1];
				*ret_slot = i - 1;
				found = 0;
				break;
			}
			i = e[i - 1].next;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return found;
	}
	return -EAGAIN;
}

int raw_track(int sock, uint32_t slot, uint32_t generation, uint64_t ino)
{
	struct sealshm_msg_track t = {
		.hdr = { .type = SEALSHM_MSG_TRACK, .size = sizeof(t), .seq = 51 },
		.slot = slot,
		.generation = generation,
		.ino = ino,
	};

	return raw_send_fds(sock, &t, sizeof(t), NULL, 0);
}
