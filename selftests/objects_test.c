// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * objects_test: what is shown of the shared objects a segment holds, with
 * real processes holding and waiting on them through a real trackerd on a
 * private socket:
 *  - sealshm_object_info()'s holder_pid: filled when this process has a
 *    holder of the object's trackerd, or else when the trackerd @opts
 *    chooses is that one; 0 for another trackerd; it never starts one;
 *  - `sealshm stat NAME` (tools/objects.c): every type and its state at its
 *    offset (a Lock held by a live child named by its pid, an RLock's count,
 *    a Semaphore's value and bound, an Event set and clear, a Barrier's
 *    parties, waiters), a holder killed with kill -9 and what its heir
 *    does, corrupt headers and garbage (skipped, never a crash), no
 *    objects, nothing allocated by looking, the 16 MiB limit, long lists;
 *  - shmtop's details of such a segment, on screen in tmux (skipped when
 *    tmux is absent), following a holder's death.
 *
 * Every wait in here is bounded: a child's wait has a timeout, a child
 * that overstays is killed, and the tests poll with a deadline.
 */
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "holder.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define WAIT_MS		10000	/* bound for anything a test polls for */
#define CHILD_WAIT_S	20	/* bound for a child's wait */
#define MAX_KIDS	8
#define MIB		(1u << 20)
#define SCAN_MAX	(16 * MIB)	/* what the tools search, sealshm(1) */

/* The objects of one segment, at known offsets. */
struct objs {
	struct sealshm_lock free_lock;		/* 0 */
	struct sealshm_lock held_lock;		/* 32 */
	struct sealshm_rlock rlock;		/* 64 */
	struct sealshm_event set_ev;		/* 96 */
	struct sealshm_event clear_ev;		/* 128 */
	struct sealshm_cond cond;		/* 160 */
	struct sealshm_lock cond_lock;		/* 192 */
	struct sealshm_sem sem;			/* 224 */
	struct sealshm_sem bsem;		/* 480 */
	struct sealshm_barrier barrier;		/* 736 */
	char holes[3 * 4096];			/* pages never touched: not scanned */
	struct sealshm_lock far_lock;		/* past the holes */
};

/* Set up every object of @o, all free, set_ev set, sem as the
 * arguments say, bsem a BoundedSemaphore(2).  0 or the first error. */
static int objs_init(struct objs *o, uint32_t sem_value, uint32_t sem_max, uint32_t sem_flags)
{
	int r;

	if ((r = sealshm_lock_init(&o->free_lock, NULL)) < 0 ||
	    (r = sealshm_lock_init(&o->held_lock, NULL)) < 0 ||
	    (r = sealshm_rlock_init(&o->rlock, NULL)) < 0 ||
	    (r = sealshm_event_init(&o->set_ev, NULL)) < 0 ||
	    (r = sealshm_event_init(&o->clear_ev, NULL)) < 0 ||
	    (r = sealshm_cond_init(&o->cond, NULL)) < 0 ||
	    (r = sealshm_lock_init(&o->cond_lock, NULL)) < 0 ||
	    (r = sealshm_sem_init(&o->sem, sem_value, sem_max, sem_flags, NULL)) < 0 ||
	    (r = sealshm_sem_init(&o->bsem, 2, 2, 0, NULL)) < 0 ||
	    (r = sealshm_barrier_init(&o->barrier, 3, NULL)) < 0 ||
	    (r = sealshm_lock_init(&o->far_lock, NULL)) < 0)
		return r;
	return sealshm_event_set(&o->set_ev);
}

/* What the test and its children share (an anonymous shared mapping, not
 * in the segment: only objects are there). */
struct ctl {
	struct sealshm_lock *lk;	/* objects the children act on */
	struct sealshm_rlock *rl;
	struct sealshm_event *ev;
	struct sealshm_sem *sem;
	struct sealshm_barrier *b;
	struct sealshm_cond *c;
	struct sealshm_lock *clk;	/* c's lock */
	const struct sealshm_opts *opts;	/* for CHILD_INIT_LOCK */
	uint32_t ready;			/* children holding what they should */
	uint32_t go;			/* let them go */
};

enum child_action {
	CHILD_HOLD_LOCK,	/* acquire lk, ready, wait for go, release */
	CHILD_HOLD_RLOCK,	/* acquire rl twice, ready, wait for go, release both */
	CHILD_INIT_LOCK,	/* lk = a new Lock of the trackerd opts chooses, then as HOLD_LOCK */
	CHILD_ACQUIRE_LOCK,	/* acquire lk (a waiter), release */
	CHILD_WAIT_EVENT,	/* wait for ev */
	CHILD_ACQUIRE_SEM,	/* acquire sem (a waiter), release */
	CHILD_WAIT_BARRIER,	/* wait at b: 0 once passed, 3 when broken */
	CHILD_WAIT_COND,	/* wait on c under clk */
};

FIXTURE(objects) {
	struct trackerd d;
	struct trackerd other;		/* a second trackerd, when a test starts it */
	struct sealshm *shm;
	char name[64];
	struct ctl *ctl;
	pid_t kids[MAX_KIDS];
	int fds_before;
	int status;			/* the last program's exit code */
	char out[65536];		/* its stdout */
	char err[4096];			/* the start of its stderr */
	char tmux_sock[160];		/* "" until tmux runs */
};

FIXTURE_SETUP(objects)
{
	ASSERT_EQ(0, unsetenv(SEALSHM_SESSION_ENV));
	trackerd_fixture_setup(_metadata, &self->d, NULL, TRACKERD_FIXTURE_HOLDER,
			       &self->fds_before, NULL);
	self->ctl = mmap(NULL, sizeof(*self->ctl), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ctl);
	snprintf(self->name, sizeof(self->name), "objects_test_%d", (int)getpid());
}

static int tmux(FIXTURE_DATA(objects) *self, const char *const *args);

FIXTURE_TEARDOWN(objects)
{
	if (self->tmux_sock[0]) {
		/* The tmux server is a daemon of its own (gone already when
		 * shmtop quit: then this fails, quietly). */
		(void)tmux(self, ARGS("kill-server"));
		self->tmux_sock[0] = '\0';
	}
	/* Children waiting for go end by themselves; the rest are killed. */
	__atomic_store_n(&self->ctl->go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < MAX_KIDS; i++)
		if (self->kids[i] > 0) {
			(void)helper_reap(self->kids[i], WAIT_MS);
			self->kids[i] = 0;
		}
	munmap(self->ctl, sizeof(*self->ctl));
	if (self->shm) {
		EXPECT_EQ(0, sealshm_unlink(self->shm));
		sealshm_close(self->shm);
	}
	if (self->other.dir[0])
		EXPECT_TRACKERD_STOPS(&self->other);
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* --- children ------------------------------------------------------------------------ */

static struct timespec rel_s(time_t s)
{
	return (struct timespec){ .tv_sec = s };
}

/* Until ctl->go, CHILD_WAIT_S at most: false when it never came. */
static bool wait_go(struct ctl *ctl)
{
	uint64_t end = helper_now_ms() + CHILD_WAIT_S * 1000;

	while (!__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE))
		if (helper_now_ms() > end)
			return false;
		else
			usleep(1000);
	return true;
}

static void say_ready(struct ctl *ctl)
{
	__atomic_fetch_add(&ctl->ready, 1, __ATOMIC_RELEASE);
}

/* A child's work; its exit code: 0 done, 3 a broken barrier, others a
 * failure (10 + step). */
static int child(void *arg, int action)
{
	struct ctl *ctl = arg;
	struct timespec t = rel_s(CHILD_WAIT_S);
	int r;

	switch (action) {
	case CHILD_INIT_LOCK:
		if (sealshm_lock_init(ctl->lk, ctl->opts) != 0)
			return 10;
		/* fall through */
	case CHILD_HOLD_LOCK:
		if (sealshm_lock_acquire(ctl->lk, &t, 0) != 0)
			return 11;
		say_ready(ctl);
		if (!wait_go(ctl))
			return 12;
		return sealshm_lock_release(ctl->lk) == 0 ? 0 : 13;
	case CHILD_HOLD_RLOCK:
		if (sealshm_rlock_acquire(ctl->rl, &t, 0) != 0 ||
		    sealshm_rlock_acquire(ctl->rl, &t, 0) != 0)
			return 14;
		say_ready(ctl);
		if (!wait_go(ctl))
			return 15;
		return sealshm_rlock_release(ctl->rl) == 0 && sealshm_rlock_release(ctl->rl) == 0 ?
			0 : 16;
	case CHILD_ACQUIRE_LOCK:
		r = sealshm_lock_acquire(ctl->lk, &t, 0);
		if (r == -EOWNERDEAD)
			r = sealshm_lock_consistent(ctl->lk);
		if (r != 0)
			return 17;
		return sealshm_lock_release(ctl->lk) == 0 ? 0 : 18;
	case CHILD_WAIT_EVENT:
		return sealshm_event_wait(ctl->ev, &t, 0) == 0 ? 0 : 19;
	case CHILD_ACQUIRE_SEM:
		if (sealshm_sem_acquire(ctl->sem, &t, 0) != 0)
			return 20;
		return sealshm_sem_release(ctl->sem) == 0 ? 0 : 21;
	case CHILD_WAIT_BARRIER:
		say_ready(ctl);
		r = sealshm_barrier_wait(ctl->b, &t, 0);
		return r >= 0 ? 0 : r == -EPIPE ? 3 : 22;
	case CHILD_WAIT_COND:
		if (sealshm_lock_acquire(ctl->clk, &t, 0) != 0)
			return 23;
		if (sealshm_cond_wait(ctl->c, ctl->clk, &t, 0) != 0)
			return 24;
		return sealshm_lock_release(ctl->clk) == 0 ? 0 : 25;
	}
	return 99;
}

/* Start child @action in kids[@slot]. */
static bool start(FIXTURE_DATA(objects) *self, int slot, enum child_action action)
{
	self->kids[slot] = spawn_child(child, self->ctl, action);
	return self->kids[slot] > 0;
}

/* Until what sealshm_object_info() says of @obj (@len bytes) matches:
 * waiters >= @waiters, holder_pid == @pid (unless @pid < 0), WAIT_MS at
 * most.  *@info is the last description. */
static bool wait_info(const void *obj, size_t len, uint32_t waiters, long pid,
		      struct sealshm_object_info *info)
{
	uint64_t end = helper_now_ms() + WAIT_MS;

	for (;;) {
		*info = (struct sealshm_object_info){ .sz = sizeof(*info) };
		if (sealshm_object_info(obj, len, NULL, info) < 0)
			return false;
		if (info->waiters >= waiters && (pid < 0 || info->holder_pid == (uint32_t)pid))
			return true;
		if (helper_now_ms() > end)
			return false;
		usleep(500);
	}
}

#define WAIT_INFO(obj, n_waiters, pid)							\
	do {										\
		struct sealshm_object_info i_;						\
											\
		ASSERT_TRUE(wait_info((obj), sizeof(*(obj)), (n_waiters), (pid), &i_)) {	\
			TH_LOG("%s: waiters %u, holder %#x, pid %u", #obj, i_.waiters,	\
			       i_.holder, i_.holder_pid);				\
		}									\
	} while (0)

/* --- running the tools -------------------------------------------------------------------- */

/* Run the program @path_of finds (NULL: @prog from $PATH) with @args
 * into self->out and self->err; its exit code in self->status. */
static int run(FIXTURE_DATA(objects) *self, int (*path_of)(char *, size_t), const char *prog,
	       const char *const *args)
{
	struct helper_run_opts opts = {
		.in_path = "/dev/null",
		.err = self->err,
		.err_len = sizeof(self->err),
		.timeout_ms = 60000,
	};

	self->out[0] = self->err[0] = '\0';
	if (path_of)
		self->status = helper_run_prog(path_of, args, &opts, self->out, sizeof(self->out));
	else
		self->status = helper_run(prog, args, &opts, self->out, sizeof(self->out));
	return self->status;
}

/* `sealshm stat NAME`, which must succeed. */
#define STAT(name)								\
	do {									\
		ASSERT_EQ(0, run(self, helper_cli_path, NULL, ARGS("stat", (name)))) {	\
			TH_LOG("sealshm stat: %s", self->err);			\
		}								\
	} while (0)

/* The object lines stat printed: those under "objects:", indented. */
static int object_lines(const char *text)
{
	const char *p = strstr(text, "\nobjects:");
	int n = 0;

	if (!p)
		return -1;
	for (p = strchr(p + 1, '\n'); p && !strncmp(p + 1, "  ", 2); p = strchr(p + 1, '\n'))
		n++;
	return n;
}

#define EXPECT_LINE(...)							\
	EXPECT_TRUE(helper_has_line(self->out, __VA_ARGS__)) {				\
		TH_LOG("no line '%s' in:\n%s", #__VA_ARGS__, self->out);	\
	}

/* A segment of @size, untouched, as self->shm. */
static int make_segment(FIXTURE_DATA(objects) *self, size_t size)
{
	return sealshm_create(self->name, size, NULL, &self->shm);
}

/* --- sealshm_object_info() and the trackerd it asks ------------------------------------------ */

/* What the checking child of info_holder_pid_by_opts is given. */
struct info_check {
	struct sealshm_lock *lk;	/* a Lock of trackerd "other", held */
	struct sealshm_lock *own;	/* a Lock of the default trackerd, held by this process */
	pid_t holder;			/* lk's holder */
	pid_t me;			/* own's holder */
	char sock[128];			/* the default trackerd's socket */
	char other[128];		/* other's */
	char none[128];			/* nothing listens here */
	char started[128];		/* nothing listens here either, until autostart */
	char trackerd[PATH_MAX];
};

/* holder_pid of @obj as sealshm_object_info() with @opts tells it. */
static long info_pid(const void *obj, const struct sealshm_opts *opts)
{
	struct sealshm_object_info info = { .sz = sizeof(info) };
	int r = sealshm_object_info(obj, 32, opts, &info);

	return r < 0 ? r : !info.holder ? -1000 : (long)info.holder_pid;
}

/* In a child that has no holder of trackerd "other" yet (its parent
 * never had one), where autostart would work: SEALSHM_NO_AUTOSTART unset,
 * SEALSHM_TRACKERD set, the default socket one where nothing listens. */
static int check_info_pids(const void *arg)
{
	const struct info_check *c = arg;
	SEALSHM_OPTS(sealshm_opts, dflt, .socket = c->sock);
	SEALSHM_OPTS(sealshm_opts, other, .socket = c->other);
	struct sealshm_registry_stats st;

	if (unsetenv("SEALSHM_NO_AUTOSTART") < 0 || setenv("SEALSHM_TRACKERD", c->trackerd, 1) < 0 ||
	    setenv("SEALSHM_SOCKET", c->none, 1) < 0)
		return 100;
	/* Neither the default trackerd (none answers) nor the one opts
	 * names is the object's: no pid, and none started. */
	CHILD_CHECK(1, info_pid(c->lk, NULL) == 0);
	CHILD_CHECK(2, info_pid(c->lk, &dflt) == 0);
	CHILD_CHECK(3, access(c->none, F_OK) < 0 && helper_find_trackerds(c->none, NULL, 0) == 0);
	/* The object's own trackerd: its holder's pid. */
	CHILD_CHECK(4, info_pid(c->lk, &other) == c->holder);
	/* Now this process has a holder of it: found whatever opts say. */
	CHILD_CHECK(5, info_pid(c->lk, NULL) == c->holder);
	CHILD_CHECK(6, info_pid(c->lk, &dflt) == c->holder);
	/* The inherited holder of the fixture's trackerd names the pid of its
	 * objects' holders, also with opts naming another trackerd. */
	CHILD_CHECK(7, info_pid(c->own, &other) == c->me);
	CHILD_CHECK(8, info_pid(c->own, NULL) == c->me);
	CHILD_CHECK(9, access(c->none, F_OK) < 0);
	/* The control: in this environment a call that may autostart does. */
	if (setenv("SEALSHM_SOCKET", c->started, 1) < 0)
		return 101;
	CHILD_CHECK(10, sealshm_registry_stats(NULL, &st) == 0);
	return 0;
}

/* holder_pid is filled when this process has a holder of the object's
 * trackerd, or else when the trackerd opts chooses is that one; opts
 * naming another trackerd, or none that answers, leave it 0, and never
 * start one (where a call that may autostart does). */
TEST_F_TIMEOUT(objects, info_holder_pid_by_opts, 60)
{
	struct info_check check, *c = &check;	/* the child gets a copy */
	struct objs *o;
	SEALSHM_OPTS(sealshm_opts, other);

	ASSERT_EQ(0, trackerd_start(&self->other, NULL));
	ASSERT_EQ(0, make_segment(self, sizeof(*o)));
	o = sealshm_buf(self->shm);

	/* A child makes a Lock of trackerd "other" and holds it: this
	 * process never talks to that trackerd. */
	other.socket = self->other.sock;
	self->ctl->opts = &other;
	self->ctl->lk = &o->held_lock;
	ASSERT_TRUE(start(self, 0, CHILD_INIT_LOCK));
	ASSERT_TRUE(helper_wait_count(&self->ctl->ready, 1, WAIT_MS));
	ASSERT_EQ(0, sealshm_lock_init(&o->free_lock, NULL));
	ASSERT_EQ(0, sealshm_lock_acquire(&o->free_lock, NULL, 0));

	/* Here: a holder of the default trackerd only. */
	EXPECT_EQ(0, info_pid(&o->held_lock, NULL));
	EXPECT_EQ(getpid(), info_pid(&o->free_lock, NULL));

	*c = (struct info_check){ .lk = &o->held_lock, .own = &o->free_lock,
				  .holder = self->kids[0], .me = getpid() };
	snprintf(c->sock, sizeof(c->sock), "%s", self->d.sock);
	snprintf(c->other, sizeof(c->other), "%s", self->other.sock);
	snprintf(c->none, sizeof(c->none), "%s/none.sock", self->d.dir);
	snprintf(c->started, sizeof(c->started), "%s/started.sock", self->d.dir);
	ASSERT_EQ(0, helper_trackerd_path(c->trackerd, sizeof(c->trackerd)));
	EXPECT_EQ(0, run_child(check_info_pids, c, WAIT_MS));
	/* Stopped if found: they are detached, not our children. */
	EXPECT_EQ(0, helper_kill_trackerds(c->none));
	EXPECT_EQ(1, helper_kill_trackerds(c->started));

	/* The CLI has no holder: it names pids through the trackerd it uses,
	 * which is not the held lock's. */
	STAT(self->name);
	EXPECT_LINE("  lock at %zu: held by pid %d", offsetof(struct objs, free_lock), getpid());
	{
		struct sealshm_object_info info = { .sz = sizeof(info) };

		ASSERT_EQ(0, sealshm_object_info(&o->held_lock, 32, NULL, &info));
		EXPECT_LINE("  lock at %zu: held by holder %#x (dead, or of another trackerd)",
			    offsetof(struct objs, held_lock), info.holder);
		EXPECT_NE(0u, info.holder);
	}
	EXPECT_EQ(0, sealshm_lock_release(&o->free_lock));
	__atomic_store_n(&self->ctl->go, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, helper_reap_code(&self->kids[0], WAIT_MS));
}

/* --- sealshm stat --------------------------------------------------------------------------- */

/* Every type at its offset with its state: a Lock held by a live child
 * (its pid) with a waiter, a free Lock, an RLock's count, an Event set and
 * one clear with waiters, a Condition's waiter, a robust Semaphore's value,
 * a BoundedSemaphore at 0 with a waiter, a Barrier with parties waiting,
 * and a Lock past pages never touched; then the same objects once all is
 * released. */
TEST_F_TIMEOUT(objects, stat_shows_each_type_and_state, 90)
{
	struct objs *o;
	struct ctl *ctl = self->ctl;
	pid_t holder;

	ASSERT_EQ(0, make_segment(self, sizeof(*o)));
	o = sealshm_buf(self->shm);
	ASSERT_EQ(0, objs_init(o, 7, 0, SEALSHM_SEM_ROBUST));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, sealshm_rlock_acquire(&o->rlock, NULL, 0));
	ASSERT_EQ(0, sealshm_sem_tryacquire(&o->bsem));
	ASSERT_EQ(0, sealshm_sem_tryacquire(&o->bsem));

	*ctl = (struct ctl){ .lk = &o->held_lock, .ev = &o->clear_ev, .sem = &o->bsem,
			     .b = &o->barrier, .c = &o->cond, .clk = &o->cond_lock };
	ASSERT_TRUE(start(self, 0, CHILD_HOLD_LOCK));
	ASSERT_TRUE(helper_wait_count(&ctl->ready, 1, WAIT_MS));
	holder = self->kids[0];
	ASSERT_TRUE(start(self, 1, CHILD_ACQUIRE_LOCK));
	ASSERT_TRUE(start(self, 2, CHILD_WAIT_EVENT));
	ASSERT_TRUE(start(self, 3, CHILD_WAIT_EVENT));
	ASSERT_TRUE(start(self, 4, CHILD_ACQUIRE_SEM));
	ASSERT_TRUE(start(self, 5, CHILD_WAIT_BARRIER));
	ASSERT_TRUE(start(self, 6, CHILD_WAIT_BARRIER));
	ASSERT_TRUE(start(self, 7, CHILD_WAIT_COND));
	WAIT_INFO(&o->held_lock, 1, holder);
	WAIT_INFO(&o->clear_ev, 2, -1);
	WAIT_INFO(&o->bsem, 1, -1);
	WAIT_INFO(&o->barrier, 2, -1);
	WAIT_INFO(&o->cond, 1, -1);

	STAT(self->name);
	EXPECT_LINE("objects:  11");
	EXPECT_EQ(11, object_lines(self->out)) {
		TH_LOG("%s", self->out);
	}
	EXPECT_LINE("  lock at 0: free");
	EXPECT_LINE("  lock at 32: held by pid %d, 1 waiter", holder);
	EXPECT_LINE("  rlock at 64: held by pid %d, count 3", getpid());
	EXPECT_LINE("  event at 96: set");
	EXPECT_LINE("  event at 128: clear, 2 waiters");
	EXPECT_LINE("  condition at 160: 1 waiter");
	EXPECT_LINE("  lock at 192: free");
	EXPECT_LINE("  semaphore at 224: value 7 (robust)");
	EXPECT_LINE("  semaphore at 480: value 0 of 2 (bounded), 1 waiter");
	EXPECT_LINE("  barrier at 736: 2 of 3 parties waiting");
	EXPECT_LINE("  lock at %zu: free", offsetof(struct objs, far_lock));

	/* Everyone goes: the holder releases (its waiter gets the lock and
	 * goes), the event is set, the semaphore released, this process is
	 * the barrier's third party, the condition notified. */
	__atomic_store_n(&ctl->go, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, sealshm_event_set(&o->clear_ev));
	ASSERT_EQ(0, sealshm_sem_release(&o->bsem));
	ASSERT_LE(0, sealshm_barrier_wait(&o->barrier, &(struct timespec){ .tv_sec = 10 }, 0));
	ASSERT_EQ(0, sealshm_lock_acquire(&o->cond_lock, NULL, 0));
	ASSERT_EQ(0, sealshm_cond_notify(&o->cond, 1));
	ASSERT_EQ(0, sealshm_lock_release(&o->cond_lock));
	for (int i = 0; i < 8; i++) {
		EXPECT_EQ(0, helper_reap_code(&self->kids[i], WAIT_MS)) {
			TH_LOG("child %d", i);
		}
	}
	ASSERT_EQ(0, sealshm_event_clear(&o->set_ev));
	ASSERT_EQ(0, sealshm_rlock_release(&o->rlock));

	STAT(self->name);
	EXPECT_EQ(11, object_lines(self->out));
	EXPECT_LINE("  lock at 32: free");
	EXPECT_LINE("  rlock at 64: held by pid %d, count 2", getpid());
	EXPECT_LINE("  event at 96: clear");
	EXPECT_LINE("  event at 128: set");
	EXPECT_LINE("  condition at 160: 0 waiters");
	EXPECT_LINE("  semaphore at 480: value 1 of 2 (bounded)");
	EXPECT_LINE("  barrier at 736: 0 of 3 parties waiting");
	ASSERT_EQ(0, sealshm_rlock_release(&o->rlock));
	ASSERT_EQ(0, sealshm_rlock_release(&o->rlock));
	STAT(self->name);
	EXPECT_LINE("  rlock at 64: free");
}

/* A holder killed with kill -9: its Lock and RLock still name it (no live
 * process has its id); the heir holds the Lock "inherited from a dead
 * holder" until it is made consistent, and a release without that leaves
 * it not recoverable; a Barrier whose waiting party died is broken. */
TEST_F_TIMEOUT(objects, stat_after_kill9, 90)
{
	struct sealshm_object_info lk = { .sz = sizeof(lk) }, rl = { .sz = sizeof(rl) };
	struct ctl *ctl = self->ctl;
	struct objs *o;
	pid_t dead;

	ASSERT_EQ(0, make_segment(self, offsetof(struct objs, holes)));
	o = sealshm_buf(self->shm);
	ASSERT_EQ(0, sealshm_lock_init(&o->held_lock, NULL));
	ASSERT_EQ(0, sealshm_rlock_init(&o->rlock, NULL));
	ASSERT_EQ(0, sealshm_barrier_init(&o->barrier, 3, NULL));
	*ctl = (struct ctl){ .lk = &o->held_lock, .rl = &o->rlock, .b = &o->barrier };
	ASSERT_TRUE(start(self, 0, CHILD_HOLD_LOCK));
	ASSERT_TRUE(start(self, 1, CHILD_HOLD_RLOCK));
	ASSERT_TRUE(helper_wait_count(&ctl->ready, 2, WAIT_MS));
	ASSERT_TRUE(start(self, 2, CHILD_WAIT_BARRIER));
	ASSERT_TRUE(start(self, 3, CHILD_WAIT_BARRIER));
	WAIT_INFO(&o->barrier, 2, -1);
	STAT(self->name);
	EXPECT_LINE("  lock at 32: held by pid %d", self->kids[0]);
	EXPECT_LINE("  rlock at 64: held by pid %d, count 2", self->kids[1]);
	EXPECT_LINE("  barrier at 736: 2 of 3 parties waiting");

	/* kill -9 the holders and one waiting party; once trackerd has seen
	 * them go, their ids live no more. */
	dead = self->kids[0];
	helper_kill_reap(&self->kids[0]);
	helper_kill_reap(&self->kids[1]);
	helper_kill_reap(&self->kids[2]);
	EXPECT_EQ(3, helper_reap_code(&self->kids[3], WAIT_MS));	/* the other party: broken */
	ASSERT_TRUE(wait_info(&o->held_lock, 32, 0, 0, &lk));
	ASSERT_TRUE(wait_info(&o->rlock, 32, 0, 0, &rl));
	ASSERT_NE(0u, lk.holder);
	ASSERT_NE(0u, rl.holder);
	STAT(self->name);
	EXPECT_LINE("  lock at 32: held by holder %#x (dead, or of another trackerd)", lk.holder);
	EXPECT_LINE("  rlock at 64: held by holder %#x (dead, or of another trackerd), count 2",
		    rl.holder);
	EXPECT_LINE("  barrier at 736: 0 of 3 parties waiting, broken");
	EXPECT_EQ(NULL, strstr(self->out, "pid 0"));

	/* The heir: inherited until consistent.  The RLock made consistent
	 * is an ordinary held lock. */
	ASSERT_EQ(-EOWNERDEAD, sealshm_lock_acquire(&o->held_lock, NULL, 0));
	ASSERT_EQ(-EOWNERDEAD, sealshm_rlock_acquire(&o->rlock, NULL, 0));
	ASSERT_EQ(0, sealshm_rlock_consistent(&o->rlock));
	STAT(self->name);
	EXPECT_LINE("  lock at 32: held by pid %d, inherited from a dead holder", getpid());
	EXPECT_LINE("  rlock at 64: held by pid %d, count 1", getpid());
	EXPECT_FALSE(strstr(self->out, "(dead, or"));
	EXPECT_NE(getpid(), dead);

	/* Released without consistent(): not recoverable, for everyone. */
	ASSERT_EQ(0, sealshm_lock_release(&o->held_lock));
	ASSERT_EQ(0, sealshm_rlock_release(&o->rlock));
	ASSERT_EQ(-ENOTRECOVERABLE, sealshm_lock_tryacquire(&o->held_lock));
	STAT(self->name);
	EXPECT_LINE("  lock at 32: not recoverable (its holder died, nobody repaired it)");
	EXPECT_LINE("  rlock at 64: free");
}

/* Object-like garbage is skipped, never a crash: a header with a wrong
 * version, type or size, one that does not fit in the segment, a magic
 * alone at the end, objects whose bodies are all ones, and 32 KiB of
 * random bytes with the magic at every aligned offset.  The good objects
 * around them are all found. */
TEST_F_TIMEOUT(objects, stat_skips_corrupt_objects, 60)
{
	const size_t size = 64 * 1024;
	const uint32_t magic = 0x4a424f53;	/* "SOBJ": what the scan looks for */
	struct sealshm_lock good;
	char *buf;
	uint64_t x = 0x9e3779b97f4a7c15ull;	/* a fixed seed: the same bytes every run */

	ASSERT_EQ(0, make_segment(self, size));
	buf = sealshm_buf(self->shm);
	ASSERT_EQ(0, sealshm_lock_init(&good, NULL));

	/* 0: a good Lock; 32, 64, 96: copies with a wrong version, type,
	 * size; 128: a header only (the rest zero: a free Lock, valid). */
	for (int i = 0; i < 5; i++)
		memcpy(buf + 32 * i, &good, sizeof(good));
	buf[32 + 4] = 2;
	buf[64 + 5] = 77;
	buf[96 + 6] = 64;
	memset(buf + 128 + 16, 0, 16);
	/* 256, 512, 1024: a Lock, a Semaphore, a Barrier with bodies of
	 * ones: valid headers, nonsense states. */
	ASSERT_EQ(0, sealshm_lock_init((void *)(buf + 256), NULL));
	memset(buf + 256 + 16, 0xff, 16);
	ASSERT_EQ(0, sealshm_sem_init((void *)(buf + 512), 1, 0, 0, NULL));
	memset(buf + 512 + 16, 0xff, sizeof(struct sealshm_sem) - 16);
	ASSERT_EQ(0, sealshm_barrier_init((void *)(buf + 2048), 2, NULL));
	memset(buf + 2048 + 16, 0xff, sizeof(struct sealshm_barrier) - 16);
	/* 4096 to 36864: random bytes, the magic at every 8th byte. */
	for (size_t off = 4096; off < 4096 + 32768; off += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(buf + off, &x, 8);
		memcpy(buf + off, &magic, 4);
	}
	/* 40960: a good Lock after the garbage. */
	ASSERT_EQ(0, sealshm_lock_init((void *)(buf + 40960), NULL));
	/* The end: a Barrier's header that does not fit, then a magic with
	 * fewer than 16 bytes after it. */
	memcpy(buf + size - 1024 + 512, buf + 2048, 16);
	memcpy(buf + size - 8, &magic, 4);

	STAT(self->name);
	EXPECT_EQ(6, object_lines(self->out)) {
		TH_LOG("%s", self->out);
	}
	EXPECT_LINE("objects:  6");
	EXPECT_LINE("  lock at 0: free");
	EXPECT_LINE("  lock at 128: free");
	EXPECT_LINE("  lock at 256: not recoverable (its holder died, nobody repaired it), "
		    "1 waiter");
	EXPECT_TRUE(strstr(self->out, "  semaphore at 512: "));
	EXPECT_TRUE(strstr(self->out, "  barrier at 2048: "));
	EXPECT_LINE("  lock at 40960: free");
	EXPECT_EQ(NULL, strstr(self->out, " at 32:"));
	EXPECT_EQ(NULL, strstr(self->out, " at 64:"));
	EXPECT_EQ(NULL, strstr(self->out, " at 96:"));
}

/* No objects: a segment of text says none; a large segment never
 * written is searched without allocating a page (its resident bytes stay
 * 0) and says where it looked. */
TEST_F_TIMEOUT(objects, stat_without_objects, 60)
{
	struct sealshm *big = NULL;
	struct sealshm_info info;
	char big_name[80];

	ASSERT_EQ(0, make_segment(self, 8192));
	memset(sealshm_buf(self->shm), 'S', 8192);
	STAT(self->name);
	EXPECT_LINE("objects:  none");
	EXPECT_EQ(0, object_lines(self->out));

	snprintf(big_name, sizeof(big_name), "%s_big", self->name);
	ASSERT_EQ(0, sealshm_create(big_name, 64 * MIB, NULL, &big));
	STAT(big_name);
	EXPECT_LINE("objects:  none in the first 16 MiB");
	EXPECT_LINE("resident: 0");
	ASSERT_EQ(0, sealshm_stat(big_name, NULL, &info));
	EXPECT_EQ(0u, info.resident);
	EXPECT_EQ(0, sealshm_unlink(big));
	sealshm_close(big);
}

/* Only the first 16 MiB are searched: a Lock that ends there is shown, one
 * that crosses it or lies past it is not, and the count says so. */
TEST_F_TIMEOUT(objects, stat_searches_the_first_16_mib, 60)
{
	static const size_t at[] = { 0, SCAN_MAX - 64, SCAN_MAX - 16, SCAN_MAX + 64,
				     SCAN_MAX + 4 * MIB };
	char *buf;

	ASSERT_EQ(0, make_segment(self, 2 * SCAN_MAX));
	buf = sealshm_buf(self->shm);
	for (size_t i = 0; i < ELEMENTSOF(at); i++)
		ASSERT_EQ(0, sealshm_lock_init((void *)(buf + at[i]), NULL));
	STAT(self->name);
	EXPECT_LINE("objects:  2 in the first 16 MiB");
	EXPECT_EQ(2, object_lines(self->out)) {
		TH_LOG("%s", self->out);
	}
	EXPECT_LINE("  lock at 0: free");
	EXPECT_LINE("  lock at %zu: free", (size_t)SCAN_MAX - 64);
}

/* More objects than stat lists: the first 64, then how many more; an
 * object in a segment of its own is at 0. */
TEST_F_TIMEOUT(objects, stat_counts_what_it_does_not_list, 60)
{
	SEALSHM_OPTS(sealshm_object_params, p, .type = SEALSHM_OBJECT_SEM, .value = 3, .max = 5);
	struct sealshm_event *ev;
	struct sealshm *own = NULL;
	char own_name[80];

	ASSERT_EQ(0, make_segment(self, 100 * sizeof(*ev)));
	ev = sealshm_buf(self->shm);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(0, sealshm_event_init(&ev[i], NULL));
	STAT(self->name);
	EXPECT_LINE("objects:  100");
	EXPECT_EQ(65, object_lines(self->out));
	EXPECT_LINE("  event at %zu: clear", 63 * sizeof(*ev));
	EXPECT_EQ(NULL, strstr(self->out, "  event at 2048:"));
	EXPECT_LINE("  ... 36 more");

	snprintf(own_name, sizeof(own_name), "%s_own", self->name);
	ASSERT_EQ(0, sealshm_object_create(own_name, &p, NULL, &own));
	STAT(own_name);
	EXPECT_LINE("objects:  1");
	EXPECT_LINE("  semaphore at 0: value 3 of 5 (bounded)");
	EXPECT_EQ(0, sealshm_unlink(own));
	sealshm_close(own);
}

/* --- shmtop's details --------------------------------------------------------------------------- */

/* tmux -S <ours> @args..., into self->out; its exit code. */
static int tmux(FIXTURE_DATA(objects) *self, const char *const *args)
{
	const char *argv[32];
	int n = 0;

	argv[n++] = "-S";
	argv[n++] = self->tmux_sock;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return run(self, NULL, "tmux", argv);
}

/* The pane, polled until it has the line @fmt... (with @whole, else text
 * containing it) WAIT_MS at most; the last capture stays in self->out. */
__attribute__((format(printf, 3, 4)))
static bool pane_shows(FIXTURE_DATA(objects) *self, bool whole, const char *fmt, ...)
{
	uint64_t end = helper_now_ms() + WAIT_MS;
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (;;) {
		/* capture-pane trims the blanks at the ends of lines. */
		if (tmux(self, ARGS("capture-pane", "-p", "-t", "shmtop")) == 0 &&
		    (whole ? helper_has_line(self->out, "%s", line) : !!strstr(self->out, line)))
			return true;
		if (helper_now_ms() >= end)
			return false;
		helper_sleep_ms(50);
	}
}

#define PANE(...)								\
	ASSERT_TRUE(pane_shows(self, true, __VA_ARGS__)) {				\
		TH_LOG("waiting for the line '%s'; pane:\n%s", #__VA_ARGS__, self->out);	\
	}

/* shmtop's details of a segment show its objects as stat does, the first
 * eight and a count of the rest, and follow their state: a Lock held by a
 * live child, then by nobody alive once the child is killed with kill -9,
 * then by its heir. */
TEST_F_TIMEOUT(objects, shmtop_details_show_objects, 120)
{
	struct sealshm_object_info info;
	char prog[PATH_MAX], filter[80];
	struct objs *o;

	if (run(self, NULL, "tmux", ARGS("-V")) == 127)
		SKIP(return, "tmux not found in PATH (scripts/deps.sh installs it)");
	ASSERT_EQ(0, helper_prog_path("SEALSHM_TEST_SHMTOP", "../tools/shmtop", prog, sizeof(prog)));
	ASSERT_EQ(0, make_segment(self, sizeof(*o)));
	o = sealshm_buf(self->shm);
	ASSERT_EQ(0, objs_init(o, 0, 4, 0));
	self->ctl->lk = &o->held_lock;
	self->ctl->sem = &o->sem;
	ASSERT_TRUE(start(self, 0, CHILD_HOLD_LOCK));
	ASSERT_TRUE(helper_wait_count(&self->ctl->ready, 1, WAIT_MS));
	ASSERT_TRUE(start(self, 1, CHILD_ACQUIRE_SEM));
	WAIT_INFO(&o->sem, 1, -1);

	snprintf(self->tmux_sock, sizeof(self->tmux_sock), "%s/tmux.sock", self->d.dir);
	snprintf(filter, sizeof(filter), "--filter=%s", self->name);
	ASSERT_EQ(0, tmux(self, ARGS("-u", "-f", "/dev/null", "new-session", "-d", "-s", "shmtop",
				     "-x", "160", "-y", "50", "/bin/sh", "-c", "exec env \"$0\" \"$@\"",
				     "SEALSHM_NO_AUTOSTART=1", "LC_ALL=C.UTF-8", prog,
				     "--socket", self->d.sock, "-d", "0.5", "--no-mappers", filter))) {
		TH_LOG("tmux new-session: %s", self->err);
	}
	ASSERT_TRUE(pane_shows(self, false, "%s", self->name)) {
		TH_LOG("pane:\n%s", self->out);
	}
	ASSERT_EQ(0, tmux(self, ARGS("send-keys", "-t", "shmtop", "Enter")));
	PANE("objects:     11");
	EXPECT_TRUE(helper_has_line(self->out, "  lock at 0: free"));
	EXPECT_TRUE(helper_has_line(self->out, "  lock at 32: held by pid %d", self->kids[0]));
	EXPECT_TRUE(helper_has_line(self->out, "  rlock at 64: free"));
	EXPECT_TRUE(helper_has_line(self->out, "  event at 96: set"));
	EXPECT_TRUE(helper_has_line(self->out, "  event at 128: clear"));
	EXPECT_TRUE(helper_has_line(self->out, "  condition at 160: 0 waiters"));
	EXPECT_TRUE(helper_has_line(self->out, "  lock at 192: free"));
	EXPECT_TRUE(helper_has_line(self->out, "  semaphore at 224: value 0 of 4 (bounded), 1 waiter"));
	EXPECT_TRUE(helper_has_line(self->out, "  ... 3 more (sealshm stat lists them)")) {
		TH_LOG("pane:\n%s", self->out);
	}
	EXPECT_EQ(NULL, strstr(self->out, "at 480:"));

	/* The holder killed: the screen follows. */
	helper_kill_reap(&self->kids[0]);
	ASSERT_TRUE(wait_info(&o->held_lock, 32, 0, 0, &info));
	PANE("  lock at 32: held by holder %#x (dead, or of another trackerd)", info.holder);
	/* Its heir; the semaphore's waiter gets a unit and goes. */
	ASSERT_EQ(-EOWNERDEAD, sealshm_lock_acquire(&o->held_lock, NULL, 0));
	ASSERT_EQ(0, sealshm_sem_release(&o->sem));
	EXPECT_EQ(0, helper_reap_code(&self->kids[1], WAIT_MS));
	PANE("  lock at 32: held by pid %d, inherited from a dead holder", getpid());
	PANE("  semaphore at 224: value 1 of 4 (bounded)");
	ASSERT_EQ(0, sealshm_lock_consistent(&o->held_lock));
	ASSERT_EQ(0, sealshm_lock_release(&o->held_lock));
	PANE("  lock at 32: free");
	ASSERT_EQ(0, tmux(self, ARGS("send-keys", "-t", "shmtop", "q")));
}

TEST_HARNESS_MAIN
