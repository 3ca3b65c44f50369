// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sessions, their tokens, and the session <-> name links.
 */
#include <sys/random.h>

#include "client.h"
#include "index.h"
#include "internal.h"
#include "limits.h"
#include "log.h"
#include "proto.h"
#include "registry.h"
#include "reserve.h"
#include "session.h"
#include "siphash.h"

/* Token hash buckets: sessions are clients, so at most LIMIT_CLIENTS of
 * them; a fixed table of that many keeps chains short without rehashing. */
#define TOKEN_BUCKETS	LIMIT_CLIENTS
_Static_assert((TOKEN_BUCKETS & (TOKEN_BUCKETS - 1)) == 0, "a power of two");

/* One session tracking one name: on the session's list and the name's. */
struct link {
	struct session *session;
	uint32_t slot;
	struct link *s_prev, *s_next;	/* session->links */
	struct link *n_prev, *n_next;	/* ss->names[slot] */
};

/* Links come from blocks of LINKS_PER_BLOCK, recycled through a free list
 * (s_next): malloc() would add 16 bytes of its own to each 48-byte link,
 * and with a million tracked names that is a third of the budget. Blocks
 * are kept until trackerd stops (the high-water mark of links). */
#define LINKS_PER_BLOCK	1024

struct link_block {
	struct link_block *next;
	struct link links[LINKS_PER_BLOCK];
};

/* The sessions tracking the name in one registry slot. */
struct name_links {
	struct link *head, *tail;	/* in the order they started tracking */
	uint32_t count;
};

struct session {
	struct sessions *set;
	struct client *client;
	struct session **owner;		/* cleared when the session is freed */
	uint64_t id;
	uint8_t token[SEALSHM_PROTO_TOKEN_SIZE];
	pid_t pid;		/* first pid: SO_PEERCRED of the session connection */
	uid_t uid;
	struct session *prev, *next;	/* ss->all */
	struct session *hnext;		/* token bucket chain */
	struct link *links;		/* names tracked */
	uint32_t n_links;
};

struct sessions {
	struct registry *registry;
	struct session *all;
	size_t count;
	uint64_t next_id;
	struct session *buckets[TOKEN_BUCKETS];
	uint64_t key[2];		/* SipHash key of the token table */

	/* By registry slot, reserved for every slot there can be (reserve.h):
	 * O(1) to reach, never moved, paid for as slots are used. */
	struct name_links *names;	/* [n_names] */
	uint32_t n_names;
	uint32_t max_links;		/* per session */

	struct link_block *blocks;
	struct link *free_links;	/* chained by s_next */
};

static struct link *link_alloc(struct sessions *ss)
{
	struct link *l;

	if (!ss->free_links) {
		struct link_block *b = malloc(sizeof(*b));

		if (!b)
			return NULL;
		b->next = ss->blocks;
		ss->blocks = b;
		for (size_t i = 0; i < LINKS_PER_BLOCK; i++) {
			b->links[i].s_next = ss->free_links;
			ss->free_links = &b->links[i];
		}
	}
	l = ss->free_links;
	ss->free_links = l->s_next;
	*l = (struct link){};
	return l;
}

int sessions_new(struct registry *reg, uint32_t max_links, struct sessions **ret)
{
	struct sessions *ss;
	void *p;
	int r;

	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	ss->registry = reg;
	ss->max_links = max_links;
	ss->n_names = registry_capacity(reg);
	r = reserve_new(ss->n_names, sizeof(*ss->names), &p);
	if (r < 0) {
		free(ss);
		return r;
	}
	ss->names = p;
	/* At startup, like the registry's key: may wait for the kernel's
	 * pool in early boot, never later. */
	if (getrandom(ss->key, sizeof(ss->key), 0) != (ssize_t)sizeof(ss->key)) {
		r = errno ? -errno : -EIO;
		reserve_free(ss->names, ss->n_names, sizeof(*ss->names));
		free(ss);
		return r;
	}
	*ret = ss;
	return 0;
}

static struct session **bucket_of(struct sessions *ss, const uint8_t *token)
{
	return &ss->buckets[sealshm__siphash(token, SEALSHM_PROTO_TOKEN_SIZE, ss->key) &
			    (TOKEN_BUCKETS - 1)];
}

/* Remove @l from both lists and free it. */
static void link_free(struct sessions *ss, struct link *l)
{
	struct session *s = l->session;
	struct name_links *n = &ss->names[l->slot];

	if (l->s_prev)
		l->s_prev->s_next = l->s_next;
	else
		s->links = l->s_next;
	if (l->s_next)
		l->s_next->s_prev = l->s_prev;
	s->n_links--;

	if (l->n_prev)
		l->n_prev->n_next = l->n_next;
	else
		n->head = l->n_next;
	if (l->n_next)
		l->n_next->n_prev = l->n_prev;
	else
		n->tail = l->n_prev;
	n->count--;

	l->s_next = ss->free_links;
	ss->free_links = l;
}

/* Drop @s with whatever links it has left (none unlinks a name). */
static void session_free(struct sessions *ss, struct session *s)
{
	struct session **p;

	while (s->links)
		link_free(ss, s->links);

	for (p = bucket_of(ss, s->token); *p != s; p = &(*p)->hnext)
		assert(*p);
	*p = s->hnext;

	if (s->prev)
		s->prev->next = s->next;
	else
		ss->all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	ss->count--;

	*s->owner = NULL;
	free(s);
}

struct sessions *sessions_free(struct sessions *ss)
{
	if (!ss)
		return NULL;
	while (ss->all)
		session_free(ss, ss->all);
	while (ss->blocks) {
		struct link_block *b = ss->blocks;

		ss->blocks = b->next;
		free(b);
	}
	reserve_free(ss->names, ss->n_names, sizeof(*ss->names));
	free(ss);
	return NULL;
}

size_t sessions_count(const struct sessions *ss)
{
	return ss->count;
}

int session_open(struct sessions *ss, struct client *c, struct session **owner)
{
	const struct client_cred *cr = client_cred(c);
	static const uint8_t zero[SEALSHM_PROTO_TOKEN_SIZE];
	struct session *s, **b;
	ssize_t n;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;

	/* The pool is long initialised (sessions_new() waited for it), so
	 * this does not block; GRND_NONBLOCK says so. An all-zero token is
	 * what untracked requests carry: never hand it out. */
	do {
		n = getrandom(s->token, sizeof(s->token), GRND_NONBLOCK);
		if (n != (ssize_t)sizeof(s->token)) {
			int r = n < 0 ? -errno : -EIO;

			free(s);
			return r;
		}
	} while (memcmp(s->token, zero, sizeof(zero)) == 0);

	s->set = ss;
	s->client = c;
	s->id = ++ss->next_id;
	s->pid = cr->pid;
	s->uid = cr->ids.uid;

	b = bucket_of(ss, s->token);
	s->hnext = *b;
	*b = s;

	s->next = ss->all;
	if (ss->all)
		ss->all->prev = s;
	ss->all = s;
	ss->count++;

	s->owner = owner;
	*owner = s;
	log_info("session %llu opened by pid %d (uid %u)", (unsigned long long)s->id,
		 (int)s->pid, (unsigned)s->uid);
	return 0;
}

uint64_t session_id(const struct session *s)
{
	return s->id;
}

const uint8_t *session_token(const struct session *s)
{
	return s->token;
}

struct client *session_client(const struct session *s)
{
	return s->client;
}

pid_t session_pid(const struct session *s)
{
	return s->pid;
}

/* Equal or not, in time independent of where they differ. */
static bool token_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (size_t i = 0; i < SEALSHM_PROTO_TOKEN_SIZE; i++) {
		d |= a[i] ^ b[i];
		/* Keep the compiler from turning this into an early exit. */
		__asm__("" : "+r"(d));
	}
	return d == 0;
}

struct session *session_find(const struct sessions *ss,
			     const uint8_t token[SEALSHM_PROTO_TOKEN_SIZE])
{
	/* The bucket comes from a keyed hash: which one a guess lands in, and
	 * whether it is empty, tells nothing about any real token. */
	struct session *s = ss->buckets[sealshm__siphash(token, SEALSHM_PROTO_TOKEN_SIZE, ss->key) &
					(TOKEN_BUCKETS - 1)];

	for (; s; s = s->hnext)
		if (token_equal(s->token, token))
			return s;
	return NULL;
}

int session_may_link(const struct session *s)
{
	return s->n_links >= s->set->max_links ? -EDQUOT : 0;
}

int session_link(struct sessions *ss, struct session *s, uint32_t slot)
{
	struct name_links *n;
	struct link *l;
	int r;

	assert(registry_get(ss->registry, slot) && slot < ss->n_names);
	n = &ss->names[slot];

	/* Already tracked? Walk the shorter of the two lists: a name tracked
	 * by every session, or a session tracking many names, stays cheap
	 * from the other side. */
	if (n->count <= s->n_links) {
		for (l = n->head; l; l = l->n_next)
			if (l->session == s)
				return 0;
	} else {
		for (l = s->links; l; l = l->s_next)
			if (l->slot == slot)
				return 0;
	}

	r = session_may_link(s);
	if (r < 0)
		return r;
	l = link_alloc(ss);
	if (!l)
		return -ENOMEM;
	l->session = s;
	l->slot = slot;

	l->s_next = s->links;
	if (s->links)
		s->links->s_prev = l;
	s->links = l;
	s->n_links++;

	l->n_prev = n->tail;
	if (n->tail)
		n->tail->n_next = l;
	else
		n->head = l;
	n->tail = l;
	n->count++;
	return 1;
}

void sessions_forget_name(struct sessions *ss, uint32_t slot)
{
	if (slot >= ss->n_names)
		return;
	while (ss->names[slot].head)
		link_free(ss, ss->names[slot].head);
}

uint32_t sessions_of_name(const struct sessions *ss, uint32_t slot, uint32_t *ret_pids,
			  size_t n)
{
	/* The n oldest by session id: an insertion sort into @n places, one
	 * pass over the name's list (only STAT and LIST ask). */
	const struct session *oldest[SEALSHM_PROTO_INFO_PIDS] = {};
	const struct name_links *nl;
	size_t have = 0;

	assert(n <= SEALSHM_PROTO_INFO_PIDS);
	memset(ret_pids, 0, sizeof(*ret_pids) * n);
	if (slot >= ss->n_names)
		return 0;
	nl = &ss->names[slot];

	for (const struct link *l = nl->head; l; l = l->n_next) {
		const struct session *s = l->session;
		size_t i;

		if (have == n && (n == 0 || s->id > oldest[n - 1]->id))
			continue;
		i = have < n ? have++ : n - 1;
		for (; i > 0 && oldest[i - 1]->id > s->id; i--)
			oldest[i] = oldest[i - 1];
		oldest[i] = s;
	}
	for (size_t i = 0; i < have; i++)
		ret_pids[i] = (uint32_t)oldest[i]->pid;
	return nl->count;
}

void session_end(struct sessions *ss, struct session *s)
{
	unsigned long long id = s->id;
	pid_t pid = s->pid;
	size_t cleaned = 0;

	while (s->links) {
		struct link *l = s->links;
		uint32_t slot = l->slot;
		const struct registry_entry *e = registry_get(ss->registry, slot);
		bool unlink;

		assert(e);
		link_free(ss, l);
		if (e->flags & REGISTRY_LIFETIME_LAST)
			unlink = ss->names[slot].count == 0;
		else
			/* CPython's rule: the first tracker to go takes the
			 * name, if it may unlink it (as UNLINK would allow). */
			unlink = s->uid == 0 || s->uid == e->uid;
		if (!unlink)
			continue;

		log_warn("leaked segment '%s' cleaned up (session %llu of pid %d ended)",
			 e->name, id, (int)pid);
		sessions_forget_name(ss, slot);
		registry_remove(ss->registry, slot);
		cleaned++;
	}

	log_info("session %llu of pid %d ended: %zu %s cleaned up", id, (int)pid, cleaned,
		 cleaned == 1 ? "name" : "names");
	session_free(ss, s);
}
