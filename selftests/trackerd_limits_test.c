// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * trackerd_limits_test: what caps trackerd.  At its fd limit it refuses
 * creates with -EMFILE but still accepts and serves clients, counting a
 * read-only twin it keeps as a second fd; --max-names and
 * --max-names-per-uid cap the registry (-ENOSPC, -EDQUOT) and size the
 * index; bad values are a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "trackerd_fixture.h"

/* At its fd limit trackerd refuses creates with -EMFILE (and says so in its
 * log) but keeps fds for clients: new connections are accepted and
 * served, names attach, and unlinking makes room again.  trackerd runs
 * under a hard limit of 300 fds (prlimit), without CAP_SYS_RESOURCE
 * (setpriv, when we are root) so it cannot raise it. */
TEST_F_TIMEOUT(trackerd, fd_limit_refuses_creates_not_clients, 60)
{
	const char *root_wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", "/usr/bin/setpriv",
				    "--bounding-set=-sys_resource", "--inh-caps=-sys_resource",
				    NULL };
	const char *user_wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", NULL };
	struct sealshm_msg_attach_reply reply;
	struct trackerd d;
	char name[32];
	int n = 0, r = 0, sock, fd, conns[20];

	if (access("/usr/bin/prlimit", X_OK) < 0 ||
	    (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) < 0))
		SKIP(return, "needs prlimit (and setpriv as root), util-linux");
	ASSERT_EQ(0, trackerd_prepare(&d));
	ASSERT_EQ(0, trackerd_spawn_wrapped(&d, geteuid() == 0 ? root_wrap : user_wrap, NULL,
					    5000));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);

	for (n = 0; n < 300; n++) {
		snprintf(name, sizeof(name), "fd_%d", n);
		r = raw_create_tracked(_metadata, sock, name, 0, NULL);
		if (r < 0)
			break;
	}
	EXPECT_EQ(-EMFILE, r);
	/* Names got about half of 300 (limits.h), no fewer than 100. */
	EXPECT_GE(n, 100);
	EXPECT_LE(n, 150);
	EXPECT_TRUE(trackerd_log_has_line(&d, 2000, "refused create", "RLIMIT_NOFILE", NULL));

	/* Clients still connect and are served. */
	for (int i = 0; i < 20; i++) {
		conns[i] = raw_client(d.sock, NULL);
		EXPECT_GE(conns[i], 0);
		if (conns[i] >= 0)
			EXPECT_TRUE(raw_list_works(conns[i]));
	}
	for (int i = 0; i < 20; i++)
		safe_close(conns[i]);
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_ATTACH, "fd_0", SEALSHM_PROTO_RDONLY, &reply,
				   sizeof(reply), &fd));
	EXPECT_GE(fd, 0);
	safe_close(fd);

	/* Room again after an unlink. */
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "fd_0", 0, &reply, sizeof(reply),
				   NULL));
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "fd_again", 0, NULL));
	EXPECT_TRUE(helper_pid_alive(d.pid));

	safe_close(sock);
	if (!_metadata->passed) {
		char *log = trackerd_log(&d);

		TH_LOG("trackerd log:\n%s", log);
		free(log);
	}
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);
}

/* A name whose read-only twin trackerd keeps holds two of its fds, and
 * counts as two against the fd limit: under the same hard limit of 300
 * (see above), half as many such names fit, -EMFILE says so, unlinking
 * closes both fds, and read-only attaches get the twin.  The memfds' mode
 * is 0, so that trackerd (root without capabilities) may not reopen them
 * and keeps the twins that we (root with CAP_DAC_OVERRIDE) could make. */
TEST_F_TIMEOUT(trackerd, fd_limit_counts_read_only_twins, 60)
{
	const char *wrap[] = { "/usr/bin/prlimit", "--nofile=300:300", "/usr/bin/setpriv",
			       "--bounding-set=-sys_resource", "--inh-caps=-sys_resource", NULL };
	struct sealshm_msg_attach_reply reply;
	struct trackerd d;
	char name[32];
	int n, r = 0, sock, fd, base;

	if (geteuid() != 0)
		SKIP(return, "a twin trackerd may not reopen takes root to make");
	if (access("/usr/bin/prlimit", X_OK) < 0 || access("/usr/bin/setpriv", X_OK) < 0)
		SKIP(return, "needs prlimit and setpriv, util-linux");
	ASSERT_EQ(0, trackerd_prepare(&d));
	ASSERT_EQ(0, trackerd_spawn_wrapped(&d, wrap, NULL, 5000));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);
	base = helper_count_fds(d.pid);
	ASSERT_GT(base, 0);

	for (n = 0; n < 300; n++) {
		int fds[2] = { helper_memfd(64, F_SEAL_SHRINK | F_SEAL_GROW), -EBADF };

		ASSERT_GE(fds[0], 0);
		ASSERT_EQ(0, fchmod(fds[0], 0));
		fds[1] = reopen_fd(fds[0], O_RDONLY);
		ASSERT_GE(fds[1], 0);
		snprintf(name, sizeof(name), "twin_%d", n);
		r = raw_create(_metadata, sock, name, 64, 0400, 0, fds, 2);
		close(fds[0]);
		close(fds[1]);
		if (r < 0)
			break;
	}
	EXPECT_EQ(-EMFILE, r);
	/* Names got about half of 300 fds (limits.h), two each. */
	EXPECT_GE(n, 50);
	EXPECT_LE(n, 75);
	/* Waited for: the refused message's fds close after its reply left. */
	EXPECT_EQ(base + 2 * n, helper_wait_fds(d.pid, base + 2 * n, 3000));
	EXPECT_TRUE(trackerd_log_has_line(&d, 2000, "refused create", "RLIMIT_NOFILE", NULL));

	/* Read-only attaches are served with the twin: trackerd may not
	 * reopen the memfd. */
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_ATTACH, "twin_0", SEALSHM_PROTO_RDONLY,
				   &reply, sizeof(reply), &fd));
	EXPECT_GE(fd, 0);
	if (fd >= 0)
		EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	safe_close(fd);

	/* Unlinking closes both fds, and makes room for one more. */
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "twin_0", 0, &reply, sizeof(reply),
				   NULL));
	EXPECT_EQ(base + 2 * (n - 1), helper_wait_fds(d.pid, base + 2 * (n - 1), 3000));
	{
		int fds[2] = { helper_memfd(64, F_SEAL_SHRINK | F_SEAL_GROW), -EBADF };

		ASSERT_GE(fds[0], 0);
		ASSERT_EQ(0, fchmod(fds[0], 0));
		fds[1] = reopen_fd(fds[0], O_RDONLY);
		EXPECT_EQ(0, raw_create(_metadata, sock, "twin_again", 64, 0400, 0, fds, 2));
		close(fds[0]);
		safe_close(fds[1]);
	}
	EXPECT_TRUE(helper_pid_alive(d.pid));

	safe_close(sock);
	EXPECT_TRACKERD_STOPS(&d);
}

/* --max-names and --max-names-per-uid cap the registry (-ENOSPC, -EDQUOT)
 * and size the index; bad values are a usage error (exit 2). */
TEST(max_names_options)
{
	const char *opts[] = { "--max-names", "3", "--max-names-per-uid", "2", NULL };
	struct sealshm_msg_attach_reply reply;
	struct trackerd d;
	const struct helper_run_opts quiet = { .err_path = "/dev/null" };
	struct idx x;
	char prog[PATH_MAX];
	int sock;

	ASSERT_EQ(0, trackerd_start(&d, opts));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);
	ASSERT_EQ(0, raw_index(sock, &x));
	EXPECT_EQ(3, ((const struct sealshm_index_header *)x.map)->capacity);
	idx_close(&x);
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_1", 0, NULL));
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_2", 0, NULL));
	EXPECT_EQ(-EDQUOT, raw_create_tracked(_metadata, sock, "cap_3", 0, NULL));
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "cap_1", 0, &reply, sizeof(reply),
				   NULL));
	EXPECT_EQ(0, raw_name_call(sock, SEALSHM_MSG_UNLINK, "cap_2", 0, &reply, sizeof(reply),
				   NULL));
	safe_close(sock);
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);

	ASSERT_EQ(0, trackerd_start(&d, (const char *[]){ "--max-names", "2", NULL }));
	sock = raw_client(d.sock, NULL);
	ASSERT_GE(sock, 0);
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_1", 0, NULL));
	EXPECT_EQ(0, raw_create_tracked(_metadata, sock, "cap_2", 0, NULL));
	EXPECT_EQ(-ENOSPC, raw_create_tracked(_metadata, sock, "cap_3", 0, NULL));
	safe_close(sock);
	EXPECT_EQ(0, trackerd_stop(&d));
	trackerd_cleanup(&d);

	ASSERT_EQ(0, helper_trackerd_path(prog, sizeof(prog)));
	for (int i = 0; i < 3; i++) {
		const char *bad[] = { "0", "-1", "99999999999" };

		EXPECT_EQ(2, helper_run(prog, (const char *const[]){ "--foreground", "--socket",
					"/nonexistent/x", "--max-names", bad[i], NULL },
					&quiet, NULL, 0));
	}
}

TEST_HARNESS_MAIN
