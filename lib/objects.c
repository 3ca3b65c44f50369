// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Objects in segments of their own, and descriptions of any object:
 * sealshm_object_create(), _attach(), _info() and _type_name()
 * (sealshm_object(3)), over the table of types below.  Each type's own
 * file (lock.c, ...) sets its objects up and describes them through its
 * struct sealshm__type (object.h); this file knows none of their layouts.
 */
#include "array.h"
#include "barrier.h"
#include "cond.h"
#include "event.h"
#include "internal.h"
#include "lock.h"
#include "object.h"
#include "queue.h"
#include "sem.h"

/* Every type, by its SEALSHM_OBJECT_* number. */
static const struct sealshm__type *const types[] = {
	[SEALSHM_OBJECT_LOCK] = &sealshm__lock_type,
	[SEALSHM_OBJECT_RLOCK] = &sealshm__rlock_type,
	[SEALSHM_OBJECT_SEM] = &sealshm__sem_type,
	[SEALSHM_OBJECT_EVENT] = &sealshm__event_type,
	[SEALSHM_OBJECT_COND] = &sealshm__cond_type,
	[SEALSHM_OBJECT_BARRIER] = &sealshm__barrier_type,
	[SEALSHM_OBJECT_ARRAY] = &sealshm__array_type,
	[SEALSHM_OBJECT_QUEUE] = &sealshm__queue_type,
};

static const struct sealshm__type *type_of(uint32_t type)
{
	return type < ELEMENTSOF(types) ? types[type] : NULL;
}

const char *sealshm_object_type_name(uint32_t type)
{
	const struct sealshm__type *t = type_of(type);

	return t ? t->name : NULL;
}

static void sealshm_closep_(struct sealshm **p)
{
	(void)sealshm_close(*p);
}

int sealshm_object_create(const char *name, const struct sealshm_object_params *params,
			  const struct sealshm_opts *opts, struct sealshm **ret)
{
	__attribute__((cleanup(sealshm_closep_))) struct sealshm *shm = NULL;
	const struct sealshm__type *t;
	struct sealshm_object_params p;
	int r;

	sealshm__return_if_fail(params && ret, -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(params, sealshm_object_params), -EINVAL);
	/* A copy with every field this library knows, the missing ones 0. */
	p = (struct sealshm_object_params){
		.sz = sizeof(p),
		.type = OPTS_GET(params, type, 0),
		.flags = OPTS_GET(params, flags, 0),
		.value = OPTS_GET(params, value, 0),
		.max = OPTS_GET(params, max, 0),
		.parties = OPTS_GET(params, parties, 0),
	};
	t = type_of(p.type);
	sealshm__return_if_fail(t, -EINVAL);

	r = sealshm_create(name, t->size, opts, &shm);
	if (r < 0)
		return sealshm__err(r);
	r = t->init(sealshm_buf(shm), &p, opts);
	if (r < 0) {
		/* Nothing left behind: the name goes with the handle. */
		(void)sealshm_unlink(shm);
		return sealshm__err(r);
	}
	*ret = TAKE_PTR(shm);
	return 0;
}

int sealshm_object_attach(const char *name, uint32_t type, const struct sealshm_opts *opts,
			  struct sealshm **ret)
{
	__attribute__((cleanup(sealshm_closep_))) struct sealshm *shm = NULL;
	const struct sealshm__holder *h;
	const struct sealshm__type *t;
	const struct sealshm__object_hdr *hdr;
	uint32_t found;
	size_t size;
	int r;

	sealshm__return_if_fail(ret, -EINVAL);
	sealshm__return_if_fail(type == 0 || type_of(type), -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	/* Every object is written by every call on it. */
	if (OPTS_GET(opts, flags, 0) & SEALSHM_RDONLY)
		return sealshm__err(-EROFS);

	r = sealshm_attach(name, opts, &shm);
	if (r < 0)
		return sealshm__err(r);
	hdr = sealshm_buf(shm);
	r = sealshm__object_check(hdr, sealshm_size(shm), &found, &size);
	if (r < 0)
		return sealshm__err(r);
	t = type_of(found);
	if (!t || size != t->size || (type && found != type))
		return sealshm__err(-EBADMSG);
	/* This process's holder for the trackerd @opts names, so that the
	 * calls on the object find it; the object must belong to a trackerd
	 * this process reaches (normally that one). */
	r = sealshm__holder_get(opts, &h);
	if (r < 0)
		return sealshm__err(r);
	r = sealshm__holder_find(hdr->instance, &h);
	if (r < 0)
		return sealshm__err(r);
	*ret = TAKE_PTR(shm);
	return 0;
}

/*
 * This process's holder for @instance, to name holders' pids with: one it
 * has, or else the one of the trackerd @opts chooses if that is the
 * object's, never starting a trackerd; NULL when neither.
 */
static const struct sealshm__holder *info_holder(uint64_t instance,
						 const struct sealshm_opts *opts)
{
	const struct sealshm__holder *h = sealshm__holder_lookup(instance);
	struct sealshm_opts o = {
		.sz = sizeof(o),
		.flags = OPTS_GET(opts, flags, 0) | SEALSHM_NO_AUTOSTART,
		.socket = OPTS_GET(opts, socket, NULL),
	};

	if (h)
		return h;
	if (sealshm__holder_get(&o, &h) < 0 || h->instance != instance)
		return NULL;
	return h;
}

int sealshm_object_info(const void *mem, size_t len, const struct sealshm_opts *opts,
			struct sealshm_object_info *info)
{
	struct sealshm_object_info out = { .sz = sizeof(out) };
	const struct sealshm__object_hdr *hdr = mem;
	const struct sealshm__type *t;
	size_t size, sz;
	uint32_t type;
	int r;

	sealshm__return_if_fail(info && info->sz >= sizeof(info->sz), -EINVAL);
	sealshm__return_if_fail(OPTS_VALID(opts, sealshm_opts), -EINVAL);
	r = sealshm__object_check(mem, len, &type, &size);
	if (r < 0)
		return sealshm__err(r);
	t = type_of(type);
	if (!t || size != t->size)
		return sealshm__err(-EBADMSG);
	out.type = type;
	out.size = (uint32_t)size;
	out.instance = hdr->instance;
	t->info(mem, info_holder(hdr->instance, opts), &out);

	/* As much as the caller's struct holds; what this library does not
	 * know of a newer one is zero. */
	sz = info->sz;
	if (sz > sizeof(out)) {
		memset((char *)info + sizeof(out), 0, sz - sizeof(out));
		sz = sizeof(out);
	}
	memcpy((char *)info + sizeof(out.sz), (char *)&out + sizeof(out.sz),
	       sz - sizeof(out.sz));
	return 0;
}
