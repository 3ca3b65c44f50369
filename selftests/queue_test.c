// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * queue_test: queues (sealshm_queue(3)) between real processes through a
 * real trackerd on a private socket: FIFO order between one producer and
 * one consumer; every message got exactly once with many of each; blocking
 * puts and gets with timeouts, tries, size/empty/full; shutdown; task_done
 * and join; messages too large; bad params and corrupt headers and slots;
 * sealshm_object_info() and `sealshm stat`; and producers and consumers
 * killed -9 at random moments in the middle of traffic (nothing
 * duplicated or torn, at most one message lost per consumer killed,
 * nothing hangs).  Every wait in here is bounded: each get and put a child
 * makes has a timeout, and a child that overstays is killed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "holder.h"
#include "queue.h"

/* How long a child waits in one call, and how long the test waits for a
 * child to end. */
#define CHILD_WAIT_MS	10000
#define REAP_MS		60000

FIXTURE(queue) {
	struct trackerd d;
	struct sealshm_queue *q;
	struct sealshm *aux;		/* a segment of counters the children share */
	char name[64], aux_name[64];
	int fds_before;
};

FIXTURE_SETUP(queue)
{
	self->q = NULL;
	self->aux = NULL;
	trackerd_fixture_setup(_metadata, &self->d, NULL, TRACKERD_FIXTURE_HOLDER,
			       &self->fds_before, NULL);
	snprintf(self->name, sizeof(self->name), "queue_test_%d", (int)getpid());
	snprintf(self->aux_name, sizeof(self->aux_name), "queue_test_aux_%d", (int)getpid());
}

FIXTURE_TEARDOWN(queue)
{
	if (self->q) {
		EXPECT_EQ(0, sealshm_unlink(sealshm_queue_shm(self->q)));
		sealshm_queue_close(self->q);
	}
	if (self->aux) {
		EXPECT_EQ(0, sealshm_unlink(self->aux));
		sealshm_close(self->aux);
	}
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* --- helpers ---------------------------------------------------------------- */

static int make_queue(struct __test_metadata *_metadata, FIXTURE_DATA(queue) *self,
		      uint32_t capacity, uint32_t slot_size, uint32_t flags)
{
	SEALSHM_OPTS(sealshm_queue_params, p, .capacity = capacity, .slot_size = slot_size,
		     .flags = flags);

	(void)_metadata;
	return sealshm_queue_create(self->name, &p, NULL, &self->q);
}

/* A shared, zeroed segment of @size bytes for the children's counters. */
static void *make_aux(struct __test_metadata *_metadata, FIXTURE_DATA(queue) *self, size_t size)
{
	int r = sealshm_create(self->aux_name, size, NULL, &self->aux);

	EXPECT_EQ(0, r);
	return r == 0 ? sealshm_buf(self->aux) : NULL;
}

/* Fork a child that dies with the test and runs @fn(@q, @aux, @arg). */
static pid_t spawn(int (*fn)(struct sealshm_queue *, void *, long), struct sealshm_queue *q,
		   void *aux, long arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(q, aux, arg));
	}
	return pid;
}

static struct timespec ms(long n)
{
	return helper_rel_ms(n);
}

/* A message that says who made it and checks itself: producer, sequence,
 * a length that varies, bytes from both, and a sum over all of it. */
struct msg {
	uint32_t producer;
	uint32_t seq;
	uint32_t n;			/* bytes of pad used */
	uint32_t sum;
	unsigned char pad[200];
};

static uint32_t msg_sum(const struct msg *m)
{
	uint32_t h = 2166136261u;
	const unsigned char *p = (const unsigned char *)m;

	for (size_t i = 0; i < offsetof(struct msg, sum); i++)
		h = (h ^ p[i]) * 16777619u;
	for (uint32_t i = 0; i < m->n; i++)
		h = (h ^ m->pad[i]) * 16777619u;
	return h;
}

static size_t msg_make(struct msg *m, uint32_t producer, uint32_t seq)
{
	m->producer = producer;
	m->seq = seq;
	m->n = (seq * 37u + producer) % sizeof(m->pad);
	for (uint32_t i = 0; i < m->n; i++)
		m->pad[i] = (unsigned char)(producer * 131u + seq + i);
	m->sum = msg_sum(m);
	return offsetof(struct msg, pad) + m->n;
}

/* Whether the @len bytes got are a whole message made by msg_make(). */
static bool msg_ok(const struct msg *m, size_t len)
{
	if (len < offsetof(struct msg, pad) || m->n > sizeof(m->pad) ||
	    len != offsetof(struct msg, pad) + m->n || m->sum != msg_sum(m))
		return false;
	for (uint32_t i = 0; i < m->n; i++)
		if (m->pad[i] != (unsigned char)(m->producer * 131u + m->seq + i))
			return false;
	return true;
}

/* Put, retrying on timeouts until @give_up_ms from now: 0 or the error. */
static int put_retry(struct sealshm_queue *q, const void *m, size_t len, uint64_t give_up_ms)
{
	for (;;) {
		struct timespec t = ms(200);
		int r = sealshm_queue_put(q, m, len, &t, 0);

		if (r != -ETIMEDOUT || helper_now_ms() > give_up_ms)
			return r;
	}
}

/* --- FIFO, exactly once ------------------------------------------------------- */

#define FIFO_N	20000

static int fifo_producer(struct sealshm_queue *q, void *aux, long arg)
{
	uint64_t end = helper_now_ms() + REAP_MS;
	struct msg m;

	(void)aux, (void)arg;
	for (uint32_t i = 0; i < FIFO_N; i++) {
		size_t len = msg_make(&m, 1, i);

		if (put_retry(q, &m, len, end) != 0)
			return 10;
	}
	return 0;
}

/* One producer, one consumer: every message, whole, in the order put. */
TEST_F_TIMEOUT(queue, fifo_one_producer_one_consumer, 120)
{
	pid_t pid;
	struct msg m;
	size_t len;

	ASSERT_EQ(0, make_queue(_metadata, self, 16, sizeof(struct msg), 0));
	pid = spawn(fifo_producer, self->q, NULL, 0);
	ASSERT_LT(0, pid);
	for (uint32_t i = 0; i < FIFO_N; i++) {
		struct timespec t = ms(CHILD_WAIT_MS);
		int r = sealshm_queue_get(self->q, &m, sizeof(m), &len, &t, 0);

		ASSERT_EQ(0, r) {
			TH_LOG("get %u: %s", i, strerror(-r));
		}
		ASSERT_TRUE(msg_ok(&m, len)) {
			TH_LOG("message %u torn", i);
		}
		ASSERT_EQ(i, m.seq);
	}
	EXPECT_EQ(0, helper_reap_code(&pid, REAP_MS));
	EXPECT_EQ(1, sealshm_queue_empty(self->q));
}

#define MANY_P		4
#define MANY_C		3
#define MANY_N		5000

struct ledger {
	uint32_t got[MANY_P][MANY_N];
	uint32_t torn;
	uint32_t last_seq[MANY_C][MANY_P];	/* per consumer: order per producer */
	uint32_t out_of_order;
};

static int many_producer(struct sealshm_queue *q, void *aux, long p)
{
	uint64_t end = helper_now_ms() + REAP_MS;
	struct msg m;

	(void)aux;
	for (uint32_t i = 0; i < MANY_N; i++) {
		size_t len = msg_make(&m, (uint32_t)p, i);

		if (put_retry(q, &m, len, end) != 0)
			return 10;
	}
	return 0;
}

static int many_consumer(struct sealshm_queue *q, void *aux, long c)
{
	struct ledger *l = aux;
	struct msg m;
	size_t len;

	for (;;) {
		struct timespec t = ms(CHILD_WAIT_MS);
		int r = sealshm_queue_get(q, &m, sizeof(m), &len, &t, 0);

		if (r == -EPIPE)
			return 0;
		if (r != 0)
			return 10;
		if (!msg_ok(&m, len) || m.producer >= MANY_P || m.seq >= MANY_N) {
			__atomic_fetch_add(&l->torn, 1, __ATOMIC_RELAXED);
			continue;
		}
		/* One producer's messages reach one consumer in order. */
		if (m.seq + 1 <= l->last_seq[c][m.producer])
			__atomic_fetch_add(&l->out_of_order, 1, __ATOMIC_RELAXED);
		l->last_seq[c][m.producer] = m.seq + 1;
		__atomic_fetch_add(&l->got[m.producer][m.seq], 1, __ATOMIC_RELAXED);
	}
}

/* Many producers and consumers: every message got once, whole; each
 * consumer sees each producer's messages in the order put. */
TEST_F_TIMEOUT(queue, many_producers_consumers_exactly_once, 150)
{
	struct ledger *l;
	pid_t prod[MANY_P], cons[MANY_C];
	uint32_t missing = 0, twice = 0;

	ASSERT_EQ(0, make_queue(_metadata, self, 8, sizeof(struct msg), 0));
	l = make_aux(_metadata, self, sizeof(*l));
	ASSERT_NE(NULL, l);
	for (long c = 0; c < MANY_C; c++)
		ASSERT_LT(0, cons[c] = spawn(many_consumer, self->q, l, c));
	for (long p = 0; p < MANY_P; p++)
		ASSERT_LT(0, prod[p] = spawn(many_producer, self->q, l, p));
	for (int p = 0; p < MANY_P; p++)
		EXPECT_EQ(0, helper_reap_code(&prod[p], REAP_MS));
	EXPECT_EQ(0, sealshm_queue_shutdown(self->q));
	for (int c = 0; c < MANY_C; c++)
		EXPECT_EQ(0, helper_reap_code(&cons[c], REAP_MS));
	for (int p = 0; p < MANY_P; p++)
		for (int i = 0; i < MANY_N; i++) {
			missing += l->got[p][i] == 0;
			twice += l->got[p][i] > 1;
		}
	EXPECT_EQ(0u, missing);
	EXPECT_EQ(0u, twice);
	EXPECT_EQ(0u, l->torn);
	EXPECT_EQ(0u, l->out_of_order);
	EXPECT_EQ(0, sealshm_queue_size(self->q));
}

/* --- blocking, tries, size ---------------------------------------------------- */

/* Size, empty and full are exact; a try on a full or empty queue fails
 * at once; timed waits time out, relative and absolute. */
TEST_F_TIMEOUT(queue, tries_timeouts_and_size, 60)
{
	struct timespec t, abs;
	char buf[32];
	size_t len;
	uint64_t t0;

	ASSERT_EQ(0, make_queue(_metadata, self, 3, 32, 0));
	EXPECT_EQ(3u, sealshm_queue_capacity(self->q));
	EXPECT_EQ(32u, sealshm_queue_slot_size(self->q));
	EXPECT_EQ(0u, sealshm_queue_flags(self->q));
	EXPECT_EQ(0, sealshm_queue_size(self->q));
	EXPECT_EQ(1, sealshm_queue_empty(self->q));
	EXPECT_EQ(0, sealshm_queue_full(self->q));
	EXPECT_EQ(-EAGAIN, sealshm_queue_tryget(self->q, buf, sizeof(buf), &len));
	EXPECT_EQ(EAGAIN, errno);

	EXPECT_EQ(0, sealshm_queue_tryput(self->q, "a", 1));
	EXPECT_EQ(1, sealshm_queue_size(self->q));
	EXPECT_EQ(0, sealshm_queue_empty(self->q));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "bb", 2, NULL, 0));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "", 0, NULL, 0));
	EXPECT_EQ(3, sealshm_queue_size(self->q));
	EXPECT_EQ(1, sealshm_queue_full(self->q));
	EXPECT_EQ(-EAGAIN, sealshm_queue_tryput(self->q, "c", 1));

	t = ms(100);
	t0 = helper_now_ms();
	EXPECT_EQ(-ETIMEDOUT, sealshm_queue_put(self->q, "c", 1, &t, 0));
	EXPECT_LE(t0 + 100, helper_now_ms());
	ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &abs));
	abs.tv_nsec += 50 * 1000000L;
	if (abs.tv_nsec >= 1000000000L)
		abs.tv_sec++, abs.tv_nsec -= 1000000000L;
	EXPECT_EQ(-ETIMEDOUT, sealshm_queue_put(self->q, "c", 1, &abs, SEALSHM_WAIT_ABSTIME));
	/* Bad timeouts and flags. */
	t = (struct timespec){ .tv_nsec = 1000000000L };
	EXPECT_EQ(-EINVAL, sealshm_queue_put(self->q, "c", 1, &t, 0));
	EXPECT_EQ(-EINVAL, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 1u << 7));

	EXPECT_EQ(0, sealshm_queue_tryget(self->q, buf, sizeof(buf), &len));
	EXPECT_EQ(1u, len);
	EXPECT_EQ('a', buf[0]);
	t = ms(1000);
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, &t, 0));
	EXPECT_EQ(2u, len);
	EXPECT_EQ(0, memcmp(buf, "bb", 2));
	/* An empty message, into no buffer. */
	EXPECT_EQ(0, sealshm_queue_get(self->q, NULL, 0, &len, NULL, 0));
	EXPECT_EQ(0u, len);
	EXPECT_EQ(1, sealshm_queue_empty(self->q));
	t = ms(100);
	t0 = helper_now_ms();
	EXPECT_EQ(-ETIMEDOUT, sealshm_queue_get(self->q, buf, sizeof(buf), &len, &t, 0));
	EXPECT_LE(t0 + 100, helper_now_ms());

	/* Round and round the ring. */
	for (int i = 0; i < 1000; i++) {
		char c = (char)i;

		ASSERT_EQ(0, sealshm_queue_tryput(self->q, &c, 1));
		ASSERT_EQ(0, sealshm_queue_tryput(self->q, &c, 1));
		ASSERT_EQ(0, sealshm_queue_tryget(self->q, buf, sizeof(buf), &len));
		ASSERT_EQ(c, buf[0]);
		ASSERT_EQ(0, sealshm_queue_tryget(self->q, buf, sizeof(buf), &len));
		ASSERT_EQ(c, buf[0]);
	}
}

static int get_one(struct sealshm_queue *q, void *aux, long arg)
{
	struct timespec t = ms(CHILD_WAIT_MS);
	char buf[32];
	size_t len;
	int r;

	(void)aux;
	__atomic_store_n((uint32_t *)aux, 1, __ATOMIC_RELEASE);
	r = sealshm_queue_get(q, buf, sizeof(buf), &len, &t, 0);
	if (r == -EPIPE)
		return 3;
	if (r != 0)
		return 10;
	return len == 1 && buf[0] == (char)arg ? 0 : 11;
}

static int put_one(struct sealshm_queue *q, void *aux, long arg)
{
	struct timespec t = ms(CHILD_WAIT_MS);
	char c = (char)arg;
	int r;

	__atomic_store_n((uint32_t *)aux, 1, __ATOMIC_RELEASE);
	r = sealshm_queue_put(q, &c, 1, &t, 0);
	return r == 0 ? 0 : r == -EPIPE ? 3 : 10;
}

/* Wait until the queue counts @n sleepers (object info), 10 s at most. */
static bool sleepers(struct sealshm_queue *q, uint32_t n)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	uint64_t end = helper_now_ms() + 10000;
	struct sealshm *shm = sealshm_queue_shm(q);

	while (helper_now_ms() < end) {
		if (sealshm_object_info(sealshm_buf(shm), sealshm_size(shm), NULL, &info) == 0 &&
		    info.waiters >= n)
			return true;
		helper_sleep_ms(5);
	}
	return false;
}

/* A get asleep on an empty queue wakes for a put; a put asleep on a full
 * queue wakes for a get. */
TEST_F_TIMEOUT(queue, blocking_put_and_get_wake, 60)
{
	uint32_t *flag;
	char buf[32];
	size_t len;
	pid_t pid;

	ASSERT_EQ(0, make_queue(_metadata, self, 1, 32, 0));
	flag = make_aux(_metadata, self, 4096);
	ASSERT_NE(NULL, flag);

	pid = spawn(get_one, self->q, flag, 'x');
	ASSERT_LT(0, pid);
	ASSERT_TRUE(sleepers(self->q, 1));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "x", 1, NULL, 0));
	EXPECT_EQ(0, helper_reap_code(&pid, REAP_MS));

	EXPECT_EQ(0, sealshm_queue_put(self->q, "y", 1, NULL, 0));
	pid = spawn(put_one, self->q, flag, 'z');
	ASSERT_LT(0, pid);
	ASSERT_TRUE(sleepers(self->q, 1));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ('y', buf[0]);
	EXPECT_EQ(0, helper_reap_code(&pid, REAP_MS));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ('z', buf[0]);
}

/* --- shutdown ------------------------------------------------------------------ */

/* After shutdown: puts fail, gets drain then fail, sleepers wake with
 * -EPIPE. */
TEST_F_TIMEOUT(queue, shutdown_drains_then_pipes, 60)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	uint32_t *flag;
	char buf[32];
	size_t len;
	pid_t getter, putter;

	ASSERT_EQ(0, make_queue(_metadata, self, 1, 32, 0));
	flag = make_aux(_metadata, self, 4096);
	ASSERT_NE(NULL, flag);

	/* One getter asleep on an empty queue... */
	getter = spawn(get_one, self->q, flag, 0);
	ASSERT_LT(0, getter);
	ASSERT_TRUE(sleepers(self->q, 1));
	EXPECT_EQ(0, sealshm_queue_shutdown(self->q));
	EXPECT_EQ(3, helper_reap_code(&getter, REAP_MS));
	EXPECT_EQ(-EPIPE, sealshm_queue_put(self->q, "a", 1, NULL, 0));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(-EPIPE, sealshm_queue_tryget(self->q, buf, sizeof(buf), &len));
	EXPECT_EQ(0, sealshm_queue_shutdown(self->q));
	ASSERT_EQ(0, sealshm_object_info(sealshm_buf(sealshm_queue_shm(self->q)),
					 sealshm_size(sealshm_queue_shm(self->q)), NULL, &info));
	EXPECT_TRUE(info.flags & SEALSHM_OBJECT_SHUTDOWN);
	EXPECT_EQ(0, sealshm_unlink(sealshm_queue_shm(self->q)));
	sealshm_queue_close(self->q);
	self->q = NULL;

	/* ... and one putter asleep on a full one; what was in it drains. */
	ASSERT_EQ(0, make_queue(_metadata, self, 1, 32, 0));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "a", 1, NULL, 0));
	putter = spawn(put_one, self->q, flag, 'b');
	ASSERT_LT(0, putter);
	ASSERT_TRUE(sleepers(self->q, 1));
	EXPECT_EQ(0, sealshm_queue_shutdown(self->q));
	EXPECT_EQ(3, helper_reap_code(&putter, REAP_MS));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ('a', buf[0]);
	EXPECT_EQ(-EPIPE, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
}

/* --- joinable ----------------------------------------------------------------- */

static int join_child(struct sealshm_queue *q, void *aux, long arg)
{
	struct timespec t = ms(CHILD_WAIT_MS);

	(void)aux, (void)arg;
	return sealshm_queue_join(q, &t, 0) == 0 ? 0 : 10;
}

/* task_done() and join(), as JoinableQueue's: join waits for every
 * message put to be got and done; task_done once too often fails. */
TEST_F_TIMEOUT(queue, joinable_task_done_and_join, 60)
{
	struct timespec t;
	char buf[32];
	size_t len;
	pid_t pid;

	/* Not joinable: both -EINVAL. */
	ASSERT_EQ(0, make_queue(_metadata, self, 4, 32, 0));
	EXPECT_EQ(-EINVAL, sealshm_queue_task_done(self->q));
	EXPECT_EQ(-EINVAL, sealshm_queue_join(self->q, NULL, 0));
	EXPECT_EQ(0, sealshm_unlink(sealshm_queue_shm(self->q)));
	sealshm_queue_close(self->q);
	self->q = NULL;

	ASSERT_EQ(0, make_queue(_metadata, self, 4, 32, SEALSHM_QUEUE_JOINABLE));
	EXPECT_EQ(SEALSHM_QUEUE_JOINABLE, sealshm_queue_flags(self->q));
	EXPECT_EQ(0, sealshm_queue_join(self->q, NULL, 0));
	EXPECT_EQ(-EOVERFLOW, sealshm_queue_task_done(self->q));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "a", 1, NULL, 0));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "b", 1, NULL, 0));
	t = ms(50);
	EXPECT_EQ(-ETIMEDOUT, sealshm_queue_join(self->q, &t, 0));
	/* Done before got: too many. */
	EXPECT_EQ(-EOVERFLOW, sealshm_queue_task_done(self->q));

	pid = spawn(join_child, self->q, NULL, 0);
	ASSERT_LT(0, pid);
	ASSERT_TRUE(sleepers(self->q, 1));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	t = ms(50);
	EXPECT_EQ(-ETIMEDOUT, sealshm_queue_join(self->q, &t, 0));
	EXPECT_EQ(0, sealshm_queue_task_done(self->q));
	t = ms(50);
	EXPECT_EQ(-ETIMEDOUT, sealshm_queue_join(self->q, &t, 0));
	EXPECT_TRUE(helper_pid_alive(pid));
	EXPECT_EQ(0, sealshm_queue_task_done(self->q));
	EXPECT_EQ(0, helper_reap_code(&pid, REAP_MS));
	EXPECT_EQ(0, sealshm_queue_join(self->q, NULL, 0));
	EXPECT_EQ(-EOVERFLOW, sealshm_queue_task_done(self->q));
}

/* --- sizes --------------------------------------------------------------------- */

/* A message larger than a slot is refused; one larger than the caller's
 * buffer stays in the queue, its size said. */
TEST_F(queue, message_sizes)
{
	char big[65], buf[64];
	size_t len = 0;

	memset(big, 'q', sizeof(big));
	ASSERT_EQ(0, make_queue(_metadata, self, 2, 64, 0));
	EXPECT_EQ(-EMSGSIZE, sealshm_queue_put(self->q, big, 65, NULL, 0));
	EXPECT_EQ(-EMSGSIZE, sealshm_queue_tryput(self->q, big, 65));
	EXPECT_EQ(0, sealshm_queue_size(self->q));
	EXPECT_EQ(0, sealshm_queue_put(self->q, big, 64, NULL, 0));
	EXPECT_EQ(-EMSGSIZE, sealshm_queue_get(self->q, buf, 63, &len, NULL, 0));
	EXPECT_EQ(64u, len);
	EXPECT_EQ(-EMSGSIZE, sealshm_queue_tryget(self->q, NULL, 0, &len));
	EXPECT_EQ(1, sealshm_queue_size(self->q));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, 64, &len, NULL, 0));
	EXPECT_EQ(64u, len);
	EXPECT_EQ(0, memcmp(buf, big, 64));
	EXPECT_EQ(-EINVAL, sealshm_queue_put(self->q, NULL, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, sealshm_queue_get(self->q, NULL, 1, &len, NULL, 0));
	EXPECT_EQ(-EINVAL, sealshm_queue_get(self->q, buf, 1, NULL, NULL, 0));
}

/* --- bad input ----------------------------------------------------------------- */

/* Params out of range, unknown flags, a bound in bytes (not yet). */
TEST_F(queue, bad_params)
{
	struct sealshm_queue *q = NULL;
	struct sealshm_queue_params p = { .sz = sizeof(p), .capacity = 4, .slot_size = 8 };

	EXPECT_EQ(-EINVAL, sealshm_queue_create(self->name, NULL, NULL, &q));
	EXPECT_EQ(-EINVAL, sealshm_queue_create(self->name, &p, NULL, NULL));
	p.capacity = 0;
	EXPECT_EQ(-EINVAL, sealshm_queue_create(self->name, &p, NULL, &q));
	p.capacity = SEALSHM_QUEUE_CAPACITY_MAX + 1;
	EXPECT_EQ(-EINVAL, sealshm_queue_create(self->name, &p, NULL, &q));
	p.capacity = 4;
	p.slot_size = 0;
	EXPECT_EQ(-EINVAL, sealshm_queue_create(self->name, &p, NULL, &q));
	p.slot_size = SEALSHM_QUEUE_SLOT_SIZE_MAX + 1;
	EXPECT_EQ(-EINVAL, sealshm_queue_create(self->name, &p, NULL, &q));
	p.slot_size = 8;
	p.flags = 1u << 5;
	EXPECT_EQ(-EINVAL, sealshm_queue_create(self->name, &p, NULL, &q));
	p.flags = 0;
	p.__pad = 1;
	EXPECT_EQ(-EINVAL, sealshm_queue_create(self->name, &p, NULL, &q));
	p.__pad = 0;
	p.max_bytes = 100;
	EXPECT_EQ(-EOPNOTSUPP, sealshm_queue_create(self->name, &p, NULL, &q));
	p.max_bytes = 0;
	p.sz = 4;
	EXPECT_EQ(-EINVAL, sealshm_queue_create(self->name, &p, NULL, &q));
	EXPECT_EQ(NULL, q);
	/* Nothing was left behind: the name is free. */
	EXPECT_EQ(-ENOENT, sealshm_queue_attach(self->name, NULL, &q));
	EXPECT_EQ(0, sealshm_queue_close(NULL));
	EXPECT_EQ(-EINVAL, sealshm_queue_size(NULL));
	EXPECT_EQ(-EINVAL, sealshm_queue_put(NULL, "a", 1, NULL, 0));
	EXPECT_EQ(-EINVAL, sealshm_queue_shutdown(NULL));
}

/* A segment that is no queue, or a corrupt one, is -EBADMSG to attach;
 * a corrupt slot is -EBADMSG to a put or a get, never a bad access. */
TEST_F(queue, corrupt_queues)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm__queue_hdr *hdr, saved;
	struct sealshm_queue *q = NULL;
	struct sealshm__queue_slot *s;
	char buf[64];
	size_t len;

	/* A plain segment. */
	ASSERT_EQ(0, sealshm_create(self->aux_name, 4096, NULL, &self->aux));
	EXPECT_EQ(-EBADMSG, sealshm_queue_attach(self->aux_name, NULL, &q));

	ASSERT_EQ(0, make_queue(_metadata, self, 4, 8, 0));
	EXPECT_EQ(-EROFS, sealshm_queue_attach(self->name, &ro, &q));
	hdr = sealshm_buf(sealshm_queue_shm(self->q));
	saved = *hdr;
	ASSERT_EQ(0, sealshm_queue_attach(self->name, NULL, &q));
	sealshm_queue_close(q);
	q = NULL;

#define CORRUPT(stmt)									\
	do {										\
		*hdr = saved;								\
		stmt;									\
		EXPECT_EQ(-EBADMSG, sealshm_queue_attach(self->name, NULL, &q)) {	\
			TH_LOG("%s", #stmt);						\
		}									\
		if (q) {								\
			sealshm_queue_close(q);						\
			q = NULL;							\
		}									\
	} while (0)
	CORRUPT(hdr->capacity = 1000);		/* slots beyond the mapping */
	CORRUPT(hdr->capacity = 0);
	CORRUPT(hdr->slot_size = 4000);
	CORRUPT(hdr->slot_stride = 8);
	CORRUPT(hdr->ring_offset = 64);
	CORRUPT(hdr->flags = 1u << 9);
	CORRUPT(hdr->__reserved0[3] = 1);
	CORRUPT(hdr->hdr.version = 2);
	CORRUPT(hdr->hdr.type = SEALSHM_OBJECT_LOCK);
	CORRUPT(hdr->hdr.size = 128);
#undef CORRUPT
	*hdr = saved;

	/* Slots: a length beyond the slot, a holder in a FULL slot, a lap
	 * that makes no sense, tickets that make none. */
	s = (struct sealshm__queue_slot *)((char *)hdr + SEALSHM__QUEUE_HDR_SIZE);
	EXPECT_EQ(0, sealshm_queue_put(self->q, "abc", 3, NULL, 0));
	s->len = 9;
	EXPECT_EQ(-EBADMSG, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	s->len = 3;
	s->state |= 5;
	EXPECT_EQ(-EBADMSG, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	s->state &= ~(uint64_t)SEALSHM_HOLDER_MASK;
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ(3u, len);
	/* Slot 1 is next, in lap 0: put it in lap 7. */
	s = (struct sealshm__queue_slot *)((char *)s + hdr->slot_stride);
	s->state = SEALSHM__QSLOT(7, SEALSHM__QSLOT_FULL, 0);
	EXPECT_EQ(-EBADMSG, sealshm_queue_put(self->q, "x", 1, NULL, 0));
	EXPECT_EQ(-EBADMSG, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	s->state = 0;
	hdr->head = hdr->tail + 1;
	EXPECT_EQ(-EBADMSG, sealshm_queue_size(self->q));
	hdr->head = hdr->tail - 1;
	hdr->tail += 100;
	EXPECT_EQ(-EBADMSG, sealshm_queue_size(self->q));
	hdr->tail -= 100;
	hdr->head += 1;
	EXPECT_EQ(0, sealshm_queue_size(self->q));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "ok", 2, NULL, 0));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ(2u, len);
	/* A header that goes bad after attach: every call checks it. */
	hdr->hdr.version = 9;
	EXPECT_EQ(-EBADMSG, sealshm_queue_put(self->q, "x", 1, NULL, 0));
	EXPECT_EQ(-EBADMSG, sealshm_queue_size(self->q));
	hdr->hdr.version = saved.hdr.version;
}

/* --- tools --------------------------------------------------------------------- */

/* sealshm_object_info() and `sealshm stat` describe a queue; messages that
 * look like objects are not listed. */
TEST_F_TIMEOUT(queue, info_and_stat, 60)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	char out[4096] = "";
	const char *args[] = { "stat", self->name, NULL };
	struct sealshm_lock fake;
	struct sealshm *shm;
	int rc;

	EXPECT_STREQ("queue", sealshm_object_type_name(SEALSHM_OBJECT_QUEUE));
	ASSERT_EQ(0, make_queue(_metadata, self, 5, 64, SEALSHM_QUEUE_JOINABLE));
	shm = sealshm_queue_shm(self->q);
	ASSERT_EQ(0, sealshm_lock_init(&fake, NULL));
	/* Messages start at +16 of a slot: 8-aligned, as an object. */
	EXPECT_EQ(0, sealshm_queue_put(self->q, &fake, sizeof(fake), NULL, 0));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "x", 1, NULL, 0));
	ASSERT_EQ(0, sealshm_object_info(sealshm_buf(shm), sealshm_size(shm), NULL, &info));
	EXPECT_EQ(SEALSHM_OBJECT_QUEUE, info.type);
	EXPECT_EQ(256u, info.size);
	EXPECT_EQ(2u, info.value);
	EXPECT_EQ(5u, info.max);
	EXPECT_EQ(64u, info.item_size);
	EXPECT_EQ(256u + 5u * (16u + 64u), info.length);
	EXPECT_EQ(SEALSHM_OBJECT_JOINABLE, info.flags);
	EXPECT_EQ(0u, info.waiters);

	rc = helper_run_prog(helper_cli_path, args, NULL, out, sizeof(out));
	EXPECT_EQ(0, rc);
	EXPECT_NE(NULL, strstr(out, "queue at 0: 2 of 5 messages (slots of 64 bytes), joinable")) {
		TH_LOG("stat said:\n%s", out);
	}
	EXPECT_EQ(NULL, strstr(out, "lock at")) {
		TH_LOG("stat said:\n%s", out);
	}
	/* Made by its own call, not sealshm_object_create(). */
	{
		SEALSHM_OPTS(sealshm_object_params, op, .type = SEALSHM_OBJECT_QUEUE);

		EXPECT_EQ(-EINVAL, sealshm_object_create(self->aux_name, &op, NULL, &shm));
	}
}

/* --- dead holders, deterministically ------------------------------------------------ */

/* A child: take a holder id, say which, and wait to be killed. */
static int holder_child(struct sealshm_queue *q, void *aux, long arg)
{
	const struct sealshm__holder *h;

	(void)arg;
	/* Any call gives this process its own holder id. */
	if (sealshm_queue_size(q) < 0 || sealshm__holder_get(NULL, &h) < 0)
		return 10;
	__atomic_store_n((uint32_t *)aux, h->id, __ATOMIC_RELEASE);
	for (int i = 0; i < CHILD_WAIT_MS / 10; i++)
		helper_sleep_ms(10);
	return 11;
}

/* The holder id of a child that is then killed -9 (and reaped). */
static uint32_t dead_holder(struct __test_metadata *_metadata, struct sealshm_queue *q,
			    uint32_t *aux)
{
	uint64_t end = helper_now_ms() + 10000;
	uint32_t id = 0;
	pid_t pid;

	__atomic_store_n(aux, 0, __ATOMIC_RELEASE);
	pid = spawn(holder_child, q, aux, 0);
	EXPECT_LT(0, pid);
	while (!(id = __atomic_load_n(aux, __ATOMIC_ACQUIRE)) && helper_now_ms() < end)
		helper_sleep_ms(1);
	EXPECT_NE(0u, id);
	helper_kill_reap(&pid);
	return id;
}

/* Wait until trackerd has seen holder @id end (its liveness slot). */
static bool holder_gone(uint32_t id)
{
	const struct sealshm__holder *h;
	uint64_t end = helper_now_ms() + 10000;

	if (sealshm__holder_get(NULL, &h) < 0)
		return false;
	while (sealshm__holder_alive(h, id) && helper_now_ms() < end)
		helper_sleep_ms(1);
	return !sealshm__holder_alive(h, id);
}

static struct sealshm__queue_slot *slot_at(struct sealshm_queue *q, uint32_t i)
{
	struct sealshm__queue_hdr *hdr = sealshm_buf(sealshm_queue_shm(q));

	return (struct sealshm__queue_slot *)((char *)hdr + SEALSHM__QUEUE_HDR_SIZE +
					      (size_t)i * hdr->slot_stride);
}

/*
 * A put killed between taking its slot and publishing (the slot left
 * WRITING by a dead holder, tail moved or not): the next get skips that
 * message and takes the next one; size counts it until then.  A get
 * killed while copying out (READING by a dead holder) loses its message;
 * a put that needs the slot frees it.
 */
TEST_F_TIMEOUT(queue, dead_writer_and_dead_reader, 60)
{
	struct sealshm__queue_hdr *hdr;
	uint32_t *aux, id;
	char buf[32];
	size_t len;

	ASSERT_EQ(0, make_queue(_metadata, self, 2, 32, SEALSHM_QUEUE_JOINABLE));
	hdr = sealshm_buf(sealshm_queue_shm(self->q));
	aux = make_aux(_metadata, self, 4096);
	ASSERT_NE(NULL, aux);

	/* A writer died in slot 0 before moving tail. */
	id = dead_holder(_metadata, self->q, aux);
	ASSERT_TRUE(holder_gone(id));
	slot_at(self->q, 0)->state = SEALSHM__QSLOT(0, SEALSHM__QSLOT_WRITING, id);
	EXPECT_EQ(1, sealshm_queue_size(self->q));	/* tail moved past it */
	EXPECT_EQ(1u, hdr->tail);
	EXPECT_EQ(0, sealshm_queue_put(self->q, "b", 1, NULL, 0));
	EXPECT_EQ(2, sealshm_queue_size(self->q));
	EXPECT_EQ(1, sealshm_queue_full(self->q));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ('b', buf[0]);
	EXPECT_EQ(0, sealshm_queue_size(self->q));
	EXPECT_EQ(2u, hdr->head);
	/* The skipped message was never got: only one task to do. */
	EXPECT_EQ(0, sealshm_queue_task_done(self->q));
	EXPECT_EQ(-EOVERFLOW, sealshm_queue_task_done(self->q));
	EXPECT_EQ(0, sealshm_queue_join(self->q, NULL, 0));

	/* A reader died in slot 0 (ticket 2) after moving head: the put of
	 * ticket 4 (slot 0, lap 2) frees it. */
	EXPECT_EQ(0, sealshm_queue_put(self->q, "c", 1, NULL, 0));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "d", 1, NULL, 0));
	id = dead_holder(_metadata, self->q, aux);
	ASSERT_TRUE(holder_gone(id));
	slot_at(self->q, 0)->state = SEALSHM__QSLOT(1, SEALSHM__QSLOT_READING, id);
	hdr->head = 3;
	EXPECT_EQ(1, sealshm_queue_size(self->q));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "e", 1, NULL, 0));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ('d', buf[0]);
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ('e', buf[0]);

	/* A reader died before moving head: anyone moves it. */
	EXPECT_EQ(0, sealshm_queue_put(self->q, "f", 1, NULL, 0));
	id = dead_holder(_metadata, self->q, aux);
	ASSERT_TRUE(holder_gone(id));
	slot_at(self->q, 1)->state = SEALSHM__QSLOT(2, SEALSHM__QSLOT_READING, id);
	EXPECT_EQ(0, sealshm_queue_size(self->q));
	EXPECT_EQ(-EAGAIN, sealshm_queue_tryget(self->q, buf, sizeof(buf), &len));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "g", 1, NULL, 0));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "h", 1, NULL, 0));
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ('g', buf[0]);
	EXPECT_EQ(0, sealshm_queue_get(self->q, buf, sizeof(buf), &len, NULL, 0));
	EXPECT_EQ('h', buf[0]);
}

static int get_until(struct sealshm_queue *q, void *aux, long arg)
{
	struct timespec t = ms(CHILD_WAIT_MS);
	char buf[32];
	size_t len;
	int r;

	(void)aux, (void)arg;
	r = sealshm_queue_get(q, buf, sizeof(buf), &len, &t, 0);
	if (r == -ETIMEDOUT)
		return 2;
	return r == 0 && len == 1 && buf[0] == 'n' ? 0 : 10;
}

/* A get asleep behind a slot a live put is writing wakes when that put's
 * process dies, skips the slot and takes the next message. */
TEST_F_TIMEOUT(queue, sleeper_wakes_when_writer_dies, 60)
{
	uint32_t *aux, id;
	pid_t getter, holder;
	uint64_t end;

	ASSERT_EQ(0, make_queue(_metadata, self, 4, 32, 0));
	aux = make_aux(_metadata, self, 4096);
	ASSERT_NE(NULL, aux);
	holder = spawn(holder_child, self->q, aux, 0);
	ASSERT_LT(0, holder);
	end = helper_now_ms() + 10000;
	while (!(id = __atomic_load_n(aux, __ATOMIC_ACQUIRE)) && helper_now_ms() < end)
		helper_sleep_ms(1);
	ASSERT_NE(0u, id);
	/* As if it were in the middle of a put into slot 0. */
	slot_at(self->q, 0)->state = SEALSHM__QSLOT(0, SEALSHM__QSLOT_WRITING, id);
	EXPECT_EQ(-EAGAIN, sealshm_queue_tryget(self->q, aux + 1, 4, &(size_t){ 0 }));
	EXPECT_EQ(0, sealshm_queue_put(self->q, "n", 1, NULL, 0));
	getter = spawn(get_until, self->q, NULL, 0);
	ASSERT_LT(0, getter);
	ASSERT_TRUE(sleepers(self->q, 1));
	helper_sleep_ms(50);
	EXPECT_TRUE(helper_pid_alive(getter));
	helper_kill_reap(&holder);
	EXPECT_EQ(0, helper_reap_code(&getter, REAP_MS));
	EXPECT_EQ(0, sealshm_queue_size(self->q));
}

/* --- kill -9 in the middle of traffic --------------------------------------------- */

#define KILL_PRODUCERS	3
#define KILL_CONSUMERS	3
#define KILL_ROUNDS	200
#define KILL_IDS	512		/* producer ids, one per producer started */
#define KILL_SEQ	4096		/* messages per producer at most */

struct kill_ledger {
	uint32_t stop;				/* producers: stop putting */
	uint32_t torn, bad_id, other;
	uint32_t put_started[KILL_IDS];		/* seq + 1 of the last put begun */
	uint32_t put_done[KILL_IDS];		/* seq + 1 of the last put returned */
	uint8_t got[KILL_IDS][KILL_SEQ];
};

static int kill_producer(struct sealshm_queue *q, void *aux, long id)
{
	struct kill_ledger *l = aux;
	uint64_t end = helper_now_ms() + REAP_MS;
	struct msg m;

	for (uint32_t i = 0; i < KILL_SEQ; i++) {
		size_t len = msg_make(&m, (uint32_t)id, i);
		int r;

		if (__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE))
			return 0;
		__atomic_store_n(&l->put_started[id], i + 1, __ATOMIC_SEQ_CST);
		r = put_retry(q, &m, len, end);
		if (r != 0)
			return 10;
		__atomic_store_n(&l->put_done[id], i + 1, __ATOMIC_SEQ_CST);
	}
	return 0;
}

static int kill_consumer(struct sealshm_queue *q, void *aux, long arg)
{
	struct kill_ledger *l = aux;
	struct msg m;
	size_t len;

	(void)arg;
	for (;;) {
		struct timespec t = ms(CHILD_WAIT_MS);
		int r = sealshm_queue_get(q, &m, sizeof(m), &len, &t, 0);

		if (r == -EPIPE)
			return 0;
		if (r != 0) {
			__atomic_fetch_add(&l->other, 1, __ATOMIC_RELAXED);
			return 10;
		}
		if (!msg_ok(&m, len)) {
			__atomic_fetch_add(&l->torn, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (m.producer >= KILL_IDS || m.seq >= KILL_SEQ) {
			__atomic_fetch_add(&l->bad_id, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&l->got[m.producer][m.seq], 1, __ATOMIC_RELAXED);
	}
}

/*
 * Producers and consumers SIGKILLed at random moments while messages
 * flow through a small queue (so that puts wait, and slots are reused
 * all the time), each replaced at once.  Then the producers stop, the
 * queue is shut down and drained.  Never a message got twice or torn, or
 * one nobody put; every message whose put returned is got, but for at
 * most one per consumer killed; nothing hangs.
 */
TEST_F_TIMEOUT(queue, kill9_producers_and_consumers, 240)
{
	pid_t prod[KILL_PRODUCERS], cons[KILL_CONSUMERS];
	long prod_id[KILL_PRODUCERS];
	unsigned int seed = (unsigned int)getpid();
	uint32_t twice = 0, unput = 0, lost = 0, killed_c = 0, killed_p = 0;
	struct kill_ledger *l;
	long next_id = 0;

	ASSERT_EQ(0, make_queue(_metadata, self, 4, sizeof(struct msg), 0));
	l = make_aux(_metadata, self, sizeof(*l));
	ASSERT_NE(NULL, l);
	for (int c = 0; c < KILL_CONSUMERS; c++)
		ASSERT_LT(0, cons[c] = spawn(kill_consumer, self->q, l, 0));
	for (int p = 0; p < KILL_PRODUCERS; p++) {
		prod_id[p] = next_id++;
		ASSERT_LT(0, prod[p] = spawn(kill_producer, self->q, l, prod_id[p]));
	}

	for (int round = 0; round < KILL_ROUNDS && next_id < KILL_IDS; round++) {
		int victim = (int)(rand_r(&seed) % (KILL_PRODUCERS + KILL_CONSUMERS));

		usleep(rand_r(&seed) % 4000);
		if (victim < KILL_PRODUCERS) {
			helper_kill_reap(&prod[victim]);
			killed_p++;
			prod_id[victim] = next_id++;
			ASSERT_LT(0, prod[victim] = spawn(kill_producer, self->q, l,
							  prod_id[victim]));
		} else {
			victim -= KILL_PRODUCERS;
			helper_kill_reap(&cons[victim]);
			killed_c++;
			ASSERT_LT(0, cons[victim] = spawn(kill_consumer, self->q, l, 0));
		}
	}

	/* Stop the producers, then drain: the consumers end on -EPIPE. */
	__atomic_store_n(&l->stop, 1, __ATOMIC_RELEASE);
	for (int p = 0; p < KILL_PRODUCERS; p++)
		EXPECT_EQ(0, helper_reap_code(&prod[p], REAP_MS));
	EXPECT_EQ(0, sealshm_queue_shutdown(self->q));
	for (int c = 0; c < KILL_CONSUMERS; c++)
		EXPECT_EQ(0, helper_reap_code(&cons[c], REAP_MS));
	EXPECT_EQ(0, sealshm_queue_size(self->q));

	for (long id = 0; id < next_id; id++)
		for (uint32_t i = 0; i < KILL_SEQ; i++) {
			uint8_t g = l->got[id][i];

			twice += g > 1;
			unput += g > 0 && i >= l->put_started[id];
			lost += g == 0 && i < l->put_done[id];
		}
	EXPECT_EQ(0u, twice);
	EXPECT_EQ(0u, unput);
	EXPECT_EQ(0u, l->torn);
	EXPECT_EQ(0u, l->bad_id);
	EXPECT_EQ(0u, l->other);
	EXPECT_GE(killed_c, lost) {
		TH_LOG("%u messages lost, %u consumers killed", lost, killed_c);
	}
	EXPECT_LE(100u, killed_c + killed_p);
	TH_LOG("%u producers and %u consumers killed, %u messages lost", killed_p, killed_c, lost);
	{
		uint64_t total = 0;

		for (long id = 0; id < next_id; id++)
			total += l->put_done[id];
		TH_LOG("%llu messages put", (unsigned long long)total);
		EXPECT_LT(1000u, total);
	}
}

TEST_HARNESS_MAIN
