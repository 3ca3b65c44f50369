// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * publish_test: sealshm_seal() makes a segment immutable for everyone who
 * maps it later (F_SEAL_FUTURE_WRITE) or for everyone (F_SEAL_WRITE), and
 * readers can tell.  trackerd and the fast path refuse a read-write attach
 * of a write-sealed name; segments are born no-exec where the kernel can.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "kselftest_harness.h"

#include "helpers.h"

static const char *const verbose[] = { "--verbose", NULL };

/* Run the CLI with @args (NULL-terminated, without argv[0]), stdout and
 * stderr to /dev/null.  Returns its exit code (128 + signal) or -errno. */
static int run_cli(const char *const *args)
{
	static const struct helper_run_opts quiet = {
		.out_path = "/dev/null", .flags = HELPER_RUN_ERR_TO_OUT,
	};

	return helper_run_prog(helper_cli_path, args, &quiet, NULL, 0);
}

static uint32_t stat_seals(const char *name)
{
	struct sealshm_info info;

	if (sealshm_stat(name, NULL, &info) < 0)
		return 0;
	return info.seals;
}

/* A new shared writable mapping of @fd: NULL when refused (errno set). */
static void *map_writable(int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return NULL;
	return p;
}

FIXTURE(publish) {
	struct trackerd d;
	int fds_before;
};

FIXTURE_SETUP(publish)
{
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_FASTPATH"));
	ASSERT_EQ(0, unsetenv(SEALSHM_SESSION_ENV));
	trackerd_fixture_setup(_metadata, &self->d, verbose, 0, &self->fds_before, NULL);
}

FIXTURE_TEARDOWN(publish)
{
	(void)unsetenv("SEALSHM_NO_FASTPATH");
	/* Within TRACKERD_FIXTURE_SETTLE_MS, the names of the peers' sessions go. */
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* FUTURE_WRITE: the creator keeps writing through its mapping; every new
 * writable mapping is refused: of its own fd, of a /proc/self/fd reopen,
 * and a read-write attach (-EPERM on the fast and the slow path). */
TEST_F(publish, future_write_keeps_creator_refuses_new_writers)
{
	char path[sizeof("/proc/self/fd/") + 3 * sizeof(int)];
	struct sealshm *c = NULL, *r = NULL, *w = NULL;
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	char *buf;
	void *p;
	int fd;

	ASSERT_EQ(0, sealshm_create("pub_future", 4096, NULL, &c));
	buf = sealshm_buf(c);
	memset(buf, 'a', 4096);
	ASSERT_EQ(0, sealshm_seal(c, SEALSHM_SEAL_FUTURE_WRITE));
	EXPECT_NE(0, fcntl(sealshm_fd(c), F_GET_SEALS) & F_SEAL_FUTURE_WRITE);
	EXPECT_EQ(buf, sealshm_buf(c));

	/* The creator's mapping still writes, and readers see it. */
	buf[0] = 'b';
	ASSERT_EQ(0, sealshm_attach("pub_future", &ro, &r));
	EXPECT_EQ('b', ((char *)sealshm_buf(r))[0]);
	buf[1] = 'c';
	EXPECT_EQ('c', ((char *)sealshm_buf(r))[1]);

	/* A new writable mapping of its own fd. */
	errno = 0;
	EXPECT_EQ(NULL, map_writable(sealshm_fd(c), 4096));
	EXPECT_EQ(EPERM, errno);
	/* write(2) is refused too. */
	EXPECT_EQ(-1, pwrite(sealshm_fd(c), "x", 1, 0));
	EXPECT_EQ(EPERM, errno);
	/* A read-only mapping cannot be turned writable (no VM_MAYWRITE). */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, sealshm_fd(c), 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, 4096, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, munmap(p, 4096));

	/* A reopen through /proc/self/fd succeeds O_RDWR (same uid, mode
	 * 0600), but cannot map writable either. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sealshm_fd(r));
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	errno = 0;
	EXPECT_EQ(NULL, map_writable(fd, 4096));
	EXPECT_EQ(EPERM, errno);
	close(fd);

	/* Read-write attach: fast path (falls back), then slow path. */
	EXPECT_EQ(-EPERM, sealshm_attach("pub_future", NULL, &w));
	EXPECT_EQ(NULL, w);
	ASSERT_EQ(0, setenv("SEALSHM_NO_FASTPATH", "1", 1));
	EXPECT_EQ(-EPERM, sealshm_attach("pub_future", NULL, &w));
	EXPECT_EQ(NULL, w);
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_FASTPATH"));
	EXPECT_EQ(2, trackerd_log_count(&self->d, "refused attach 'pub_future'", "write-sealed",
					NULL));

	/* Readers can check it. */
	EXPECT_NE(0, stat_seals("pub_future") & F_SEAL_FUTURE_WRITE);
	EXPECT_EQ(0, stat_seals("pub_future") & F_SEAL_WRITE);

	sealshm_close(r);
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
}

/* WRITE: -EBUSY, changing nothing, while a forked child holds the mapping
 * it inherited; success once the child unmaps it; then nobody writes. */
TEST_F(publish, write_busy_while_child_maps_then_nobody_writes)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm *c = NULL, *r = NULL, *w = NULL;
	int go[2], done[2], status;
	char *buf, ch;
	pid_t pid;

	ASSERT_EQ(0, sealshm_create("pub_write", 8192, NULL, &c));
	buf = sealshm_buf(c);
	memset(buf, 'q', 8192);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(done, O_CLOEXEC));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* Holds the inherited writable mapping until told to drop it. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		close(done[0]);
		if (read(go[0], &ch, 1) != 1)
			_exit(1);
		if (munmap(buf, 8192) < 0)
			_exit(2);
		if (write(done[1], "u", 1) != 1)
			_exit(3);
		(void)read(go[0], &ch, 1);	/* until the parent closes it */
		_exit(0);
	}

	EXPECT_EQ(-EBUSY, sealshm_seal(c, SEALSHM_SEAL_WRITE));
	EXPECT_EQ(EBUSY, errno);
	/* Nothing changed: same address, still writable, no seal. */
	EXPECT_EQ(buf, sealshm_buf(c));
	buf[0] = 'r';
	EXPECT_EQ('r', buf[0]);
	EXPECT_EQ(0, fcntl(sealshm_fd(c), F_GET_SEALS) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
	EXPECT_EQ(0, stat_seals("pub_write") & F_SEAL_WRITE);

	/* The child unmaps: now it works. */
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(done[0], &ch, 1));
	EXPECT_EQ(0, sealshm_seal(c, SEALSHM_SEAL_WRITE));
	close(go[1]);
	close(go[0]);
	close(done[0]);
	close(done[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, helper_exit_code(status));

	/* Same address, same bytes, and nobody writes. */
	EXPECT_EQ(buf, sealshm_buf(c));
	EXPECT_EQ('r', buf[0]);
	EXPECT_EQ('q', buf[8191]);
	EXPECT_NE(0, fcntl(sealshm_fd(c), F_GET_SEALS) & F_SEAL_WRITE);
	EXPECT_EQ(-1, mprotect(buf, 8192, PROT_READ | PROT_WRITE));
	EXPECT_EQ(-1, pwrite(sealshm_fd(c), "x", 1, 0));
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(NULL, map_writable(sealshm_fd(c), 8192));
	EXPECT_EQ(EPERM, errno);

	/* Readers attach read-only (no round trip needed) and see the seal. */
	ASSERT_EQ(0, sealshm_attach("pub_write", &ro, &r));
	EXPECT_EQ(0, memcmp(sealshm_buf(r), buf, 8192));
	EXPECT_EQ(-1, mprotect(sealshm_buf(r), 8192, PROT_READ | PROT_WRITE));
	EXPECT_NE(0, stat_seals("pub_write") & F_SEAL_WRITE);
	EXPECT_EQ(-EPERM, sealshm_attach("pub_write", NULL, &w));
	ASSERT_EQ(0, setenv("SEALSHM_NO_FASTPATH", "1", 1));
	EXPECT_EQ(-EPERM, sealshm_attach("pub_write", NULL, &w));
	ASSERT_EQ(0, unsetenv("SEALSHM_NO_FASTPATH"));
	EXPECT_EQ(NULL, w);

	sealshm_close(r);
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
}

/* WRITE also succeeds once the child holding the mapping has exited. */
TEST_F(publish, write_succeeds_after_child_exits)
{
	struct sealshm *c = NULL;
	int status;
	pid_t pid;

	ASSERT_EQ(0, sealshm_create("pub_exit", 4096, NULL, &c));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		helper_sleep_ms(200);
		_exit(0);
	}
	EXPECT_EQ(-EBUSY, sealshm_seal(c, SEALSHM_SEAL_WRITE));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, sealshm_seal(c, SEALSHM_SEAL_WRITE));
	EXPECT_NE(0, stat_seals("pub_exit") & F_SEAL_WRITE);
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
}

/* Another writable handle in this process counts too; FUTURE_WRITE then
 * WRITE works once it is closed; both flags together add both seals. */
TEST_F(publish, write_busy_with_second_handle)
{
	struct sealshm *c = NULL, *a = NULL, *b = NULL;

	ASSERT_EQ(0, sealshm_create("pub_two", 4096, NULL, &c));
	ASSERT_EQ(0, sealshm_attach("pub_two", NULL, &a));
	EXPECT_EQ(-EBUSY, sealshm_seal(c, SEALSHM_SEAL_WRITE));
	EXPECT_EQ(0, sealshm_seal(c, SEALSHM_SEAL_FUTURE_WRITE));
	/* Still writable through both existing mappings. */
	((char *)sealshm_buf(a))[0] = 7;
	EXPECT_EQ(7, ((char *)sealshm_buf(c))[0]);
	/* WRITE still waits for @a; @c's buffer cannot be made writable
	 * again under FUTURE_WRITE, so it stays read-only, at its address. */
	EXPECT_EQ(-EBUSY, sealshm_seal(c, SEALSHM_SEAL_WRITE));
	EXPECT_EQ(-1, mprotect(sealshm_buf(c), 4096, PROT_READ | PROT_WRITE));
	EXPECT_EQ(7, ((char *)sealshm_buf(c))[0]);
	EXPECT_EQ(0, stat_seals("pub_two") & F_SEAL_WRITE);
	sealshm_close(a);
	EXPECT_EQ(0, sealshm_seal(c, SEALSHM_SEAL_WRITE));
	EXPECT_NE(0, stat_seals("pub_two") & F_SEAL_WRITE);
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);

	ASSERT_EQ(0, sealshm_create("pub_both", 4096, NULL, &b));
	EXPECT_EQ(0, sealshm_seal(b, SEALSHM_SEAL_WRITE | SEALSHM_SEAL_FUTURE_WRITE));
	EXPECT_EQ(F_SEAL_WRITE | F_SEAL_FUTURE_WRITE,
		  stat_seals("pub_both") & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
	EXPECT_EQ(0, sealshm_unlink(b));
	sealshm_close(b);
}

/* Bad arguments: -EINVAL; a read-only handle cannot add seals: -EPERM. */
TEST_F(publish, seal_refuses_bad_flags_and_rdonly_handle)
{
	SEALSHM_OPTS(sealshm_opts, ro, .flags = SEALSHM_RDONLY);
	struct sealshm *c = NULL, *r = NULL;

	ASSERT_EQ(0, sealshm_create("pub_args", 4096, NULL, &c));
	EXPECT_EQ(-EINVAL, sealshm_seal(NULL, SEALSHM_SEAL_WRITE));
	EXPECT_EQ(-EINVAL, sealshm_seal(c, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, sealshm_seal(c, 1u << 7));
	EXPECT_EQ(-EINVAL, sealshm_seal(c, SEALSHM_SEAL_WRITE | (1u << 31)));
	ASSERT_EQ(0, sealshm_attach("pub_args", &ro, &r));
	EXPECT_EQ(-EPERM, sealshm_seal(r, SEALSHM_SEAL_FUTURE_WRITE));
	EXPECT_EQ(-EPERM, sealshm_seal(r, SEALSHM_SEAL_WRITE));
	EXPECT_EQ(0, stat_seals("pub_args") & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
	/* The creator's buffer is untouched. */
	((char *)sealshm_buf(c))[0] = 1;
	sealshm_close(r);
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
}

/* Segments are born no-exec (F_SEAL_EXEC) where the kernel has
 * MFD_NOEXEC_SEAL (Linux 6.3), and readers see it. */
TEST_F(publish, segment_is_noexec_sealed)
{
	struct sealshm *c = NULL;
	int fd;

	fd = memfd_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)
		SKIP(return, "kernel without MFD_NOEXEC_SEAL (before Linux 6.3)");
	ASSERT_GE(fd, 0);
	close(fd);

	ASSERT_EQ(0, sealshm_create("pub_noexec", 4096, NULL, &c));
	EXPECT_NE(0, fcntl(sealshm_fd(c), F_GET_SEALS) & F_SEAL_EXEC);
	EXPECT_NE(0, stat_seals("pub_noexec") & F_SEAL_EXEC);
	EXPECT_EQ(0, sealshm_unlink(c));
	sealshm_close(c);
}

/* Seals are reported with the kernel's bit values under the library's
 * names, and sealshm_seals_format() spells every one of them. */
TEST(seals_are_named_with_the_kernels_bits)
{
	char buf[128], small[6];

	EXPECT_EQ(F_SEAL_SEAL, SEALSHM_SEAL_SEAL);
	EXPECT_EQ(F_SEAL_SHRINK, SEALSHM_SEAL_SHRINK);
	EXPECT_EQ(F_SEAL_GROW, SEALSHM_SEAL_GROW);
	EXPECT_EQ(F_SEAL_WRITE, SEALSHM_SEAL_WRITE);
	EXPECT_EQ(F_SEAL_FUTURE_WRITE, SEALSHM_SEAL_FUTURE_WRITE);
	EXPECT_EQ(0x20, SEALSHM_SEAL_EXEC);

	EXPECT_EQ(0, sealshm_seals_format(0, buf, sizeof(buf)));
	EXPECT_STREQ("", buf);
	EXPECT_EQ(11, sealshm_seals_format(SEALSHM_SEAL_SHRINK | SEALSHM_SEAL_GROW, buf,
					   sizeof(buf)));
	EXPECT_STREQ("shrink,grow", buf);
	EXPECT_LT(0, sealshm_seals_format(0x3f | 0x40 | 0x80000000u, buf, sizeof(buf)));
	EXPECT_STREQ("seal,shrink,grow,write,future_write,exec,0x40,0x80000000", buf);
	/* Too small: -ERANGE, never a cut name taken for a whole one. */
	EXPECT_EQ(-ERANGE, sealshm_seals_format(SEALSHM_SEAL_SHRINK | SEALSHM_SEAL_GROW, small,
						sizeof(small)));
	EXPECT_EQ(-EINVAL, sealshm_seals_format(SEALSHM_SEAL_GROW, NULL, 8));
	EXPECT_EQ(-EINVAL, sealshm_seals_format(SEALSHM_SEAL_GROW, buf, 0));
}

/* `sealshm seal NAME` seals for good (refused while we map it writable,
 * exit 1); `--future` works while we do; a usage error exits 2. */
TEST_F(publish, cli_seal)
{
	SEALSHM_OPTS(sealshm_opts, untracked, .flags = SEALSHM_NO_TRACK);
	struct sealshm *c = NULL;

	ASSERT_EQ(0, sealshm_create("pub_cli", 4096, &untracked, &c));
	EXPECT_EQ(1, run_cli((const char *const[]){ "seal", "pub_cli", NULL }));
	EXPECT_EQ(0, stat_seals("pub_cli") & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
	EXPECT_EQ(0, run_cli((const char *const[]){ "seal", "pub_cli", "--future", NULL }));
	EXPECT_NE(0, stat_seals("pub_cli") & F_SEAL_FUTURE_WRITE);
	((char *)sealshm_buf(c))[0] = 1;	/* still ours to write */
	/* A sealed name cannot be attached read-write, not even to seal it
	 * further. */
	EXPECT_EQ(1, run_cli((const char *const[]){ "seal", "pub_cli", NULL }));
	sealshm_close(c);

	ASSERT_EQ(0, sealshm_create("pub_cli2", 4096, &untracked, &c));
	sealshm_close(c);
	EXPECT_EQ(0, run_cli((const char *const[]){ "seal", "pub_cli2", NULL }));
	EXPECT_NE(0, stat_seals("pub_cli2") & F_SEAL_WRITE);

	EXPECT_EQ(2, run_cli((const char *const[]){ "seal", NULL }));
	EXPECT_EQ(2, run_cli((const char *const[]){ "seal", "pub_cli2", "--bogus", NULL }));
	EXPECT_EQ(0, run_cli((const char *const[]){ "rm", "pub_cli", "pub_cli2", NULL }));
}

TEST_HARNESS_MAIN
