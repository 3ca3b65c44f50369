// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cli_test: sealshm(1) as a user runs it, against a private trackerd:
 *  - the arguments: one parser for every command, so "--" and names that
 *    begin with '-' work the same in each, options go anywhere, and a
 *    usage error (exit 2) does nothing; a bad SIZE or NAME says why (the
 *    name's rule in the library's words);
 *  - when no trackerd answers: which program is missing, or why none was
 *    started, never as if a name were missing;
 *  - what it prints of names: every one shown so that it cannot act on a
 *    terminal or pass for another, also the names an older or hostile
 *    trackerd lists though a current one refuses them (a fake trackerd,
 *    lib/fake_trackerd.h, sends them).
 *
 * The CLI is $SEALSHM_TEST_CLI, else ../tools/sealshm beside this binary.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"
#include "hostile_names.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })

/* One run of the CLI: its exit code, its stdout and the start of its
 * stderr. */
struct cli {
	int status;
	char out[32768];
	char err[4096];
};

FIXTURE(cli) {
	struct trackerd d;
	struct fake_trackerd fake;	/* in d's temp dir, when a test starts it */
	int fds_before;
	struct cli run;
};

FIXTURE_SETUP(cli)
{
	self->fake = (struct fake_trackerd)FAKE_TRACKERD_INIT;
	ASSERT_EQ(0, unsetenv(SEALSHM_SESSION_ENV));
	trackerd_fixture_setup(_metadata, &self->d, NULL, 0, &self->fds_before, NULL);
}

FIXTURE_TEARDOWN(cli)
{
	EXPECT_EQ(0, fake_trackerd_stop(&self->fake));
	trackerd_fixture_teardown(_metadata, &self->d, self->fds_before, 0);
}

/* Run the CLI with @args and @env ("NAME=VALUE" sets, "NAME" unsets;
 * NULL-ended, or NULL), stdin from @in (a file, or /dev/null), into @c.
 * Returns its exit code, or -errno. */
static int cli_run(struct cli *c, const char *const *env, const char *in,
		   const char *const *args)
{
	struct helper_run_opts opts = {
		.in_path = in ? in : "/dev/null",
		.err = c->err,
		.err_len = sizeof(c->err),
		.env = env,
	};

	c->out[0] = c->err[0] = '\0';
	c->status = helper_run_prog(helper_cli_path, args, &opts, c->out, sizeof(c->out));
	return c->status;
}

#define CLI(...) cli_run(&self->run, NULL, NULL, ARGS(__VA_ARGS__))
#define CLI_ARGS(args) cli_run(&self->run, NULL, NULL, (args))

/* Untracked, as the CLI's own are, so the name outlives nothing. */
static int create(const char *name)
{
	SEALSHM_OPTS(sealshm_opts, o, .flags = SEALSHM_NO_TRACK);
	struct sealshm *shm = NULL;
	int r = sealshm_create(name, 4096, &o, &shm);

	sealshm_close(shm);
	return r;
}

/* @text has a line that starts with @start, then a space. */
static bool has_row(const char *text, const char *start)
{
	size_t len = strlen(start);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, start, len) && p[len] == ' ')
			return true;
	return false;
}

static bool starts_with(const char *text, const char *prefix)
{
	return !strncmp(text, prefix, strlen(prefix));
}

static int count_lines(const char *text)
{
	int n = 0;

	for (const char *p = strchr(text, '\n'); p; p = strchr(p + 1, '\n'))
		n++;
	return n;
}

/* Nothing in @text but printable characters and newlines: no C0 control
 * byte, no DEL. */
static bool no_control_bytes(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			return false;
	return true;
}

static bool exists(const char *name)
{
	struct sealshm_info info;

	return sealshm_stat(name, NULL, &info) == 0;
}

static uint32_t seals_of(const char *name)
{
	struct sealshm_info info;

	return sealshm_stat(name, NULL, &info) == 0 ? info.seals : 0;
}

/* --- arguments ---------------------------------------------------------------- */
/* "--" ends the options of every command, and a name that begins with '-'
 * (or is "--" itself) works after it: create, write, cat, stat, ls, seal
 * and rm, which removes the names after "--" and not "--".  "-" alone is
 * a name anywhere. */
TEST_F(cli, dashdash_works_in_every_command)
{
	char in[160];
	int fd;

	snprintf(in, sizeof(in), "%s/cli.in", self->d.dir);
	fd = open(in, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(6, write(fd, "hello\n", 6));
	close(fd);

	EXPECT_EQ(0, CLI("create", "--", "-x", "4K")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_EQ(0, CLI("create", "--mode", "0640", "--", "--", "1K")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_TRUE(exists("-x"));
	EXPECT_TRUE(exists("--"));

	EXPECT_EQ(0, cli_run(&self->run, NULL, in, ARGS("write", "--", "-x"))) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_EQ(0, CLI("cat", "--", "-x")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_STREQ("hello\n", self->run.out);
	EXPECT_EQ(0, CLI("stat", "--", "-x")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_TRUE(starts_with(self->run.out, "name:     -x\n"));
	EXPECT_EQ(0, CLI("stat", "--", "--"));
	EXPECT_TRUE(starts_with(self->run.out, "name:     --\n"));
	EXPECT_NE(NULL, strstr(self->run.out, "\nmode:     0640\n"));
	EXPECT_EQ(0, CLI("ls", "--"));
	EXPECT_TRUE(has_row(self->run.out, "-x"));
	EXPECT_TRUE(has_row(self->run.out, "--"));
	EXPECT_EQ(0, CLI("seal", "--future", "--", "-x")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_NE(0u, seals_of("-x") & SEALSHM_SEAL_FUTURE_WRITE);

	/* The first "--" ends the options; it is no name. */
	EXPECT_EQ(0, CLI("rm", "--", "-x")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_FALSE(exists("-x"));
	EXPECT_TRUE(exists("--"));
	EXPECT_EQ(0, CLI("rm", "--", "--"));
	EXPECT_FALSE(exists("--"));

	/* "-" alone is a name anywhere, as getopt(3) has it. */
	EXPECT_EQ(0, CLI("create", "-", "1K"));
	EXPECT_EQ(0, CLI("stat", "-"));
	EXPECT_TRUE(starts_with(self->run.out, "name:     -\n"));
	EXPECT_EQ(0, CLI("rm", "-"));
	EXPECT_FALSE(exists("-"));
}

/* Before "--", an argument that begins with '-' is an option in every
 * command: a name that begins with '-' there is a usage error (exit 2)
 * that says to put it after "--", and the command does nothing (rm removes
 * none of its names).  Options may come before or after the operands;
 * COMMAND --help shows the usage. */
TEST_F(cli, dash_names_before_dashdash_are_usage_errors)
{
	const char *const *const bad[] = {
		ARGS("stat", "-x"), ARGS("cat", "-x"), ARGS("write", "-x"), ARGS("seal", "-x"),
		ARGS("create", "-x", "1K"), ARGS("rm", "keep", "-x"), ARGS("rm", "-x", "keep"),
		ARGS("stat", "-1"), ARGS("seal", "--future", "-x"), ARGS("stat", "--future", "x"),
	};

	ASSERT_EQ(0, create("keep"));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		EXPECT_EQ(2, CLI_ARGS(bad[i])) {
			TH_LOG("case %zu: %s", i, self->run.err);
		}
		EXPECT_NE(NULL, strstr(self->run.err, "unknown option")) {
			TH_LOG("case %zu: %s", i, self->run.err);
		}
		EXPECT_NE(NULL, strstr(self->run.err, "goes after '--'")) {
			TH_LOG("case %zu: %s", i, self->run.err);
		}
		EXPECT_NE(NULL, strstr(self->run.err, "\nUsage: sealshm ")) {
			TH_LOG("case %zu: %s", i, self->run.err);
		}
		EXPECT_STREQ("", self->run.out);
	}
	EXPECT_TRUE(exists("keep"));
	EXPECT_FALSE(exists("-x"));

	/* Wrong counts, options a command does not take, bad values. */
	EXPECT_EQ(2, CLI("ls", "-l"));
	EXPECT_EQ(2, CLI("ls", "keep"));
	EXPECT_NE(NULL, strstr(self->run.err, "unexpected argument 'keep'"));
	EXPECT_EQ(2, CLI("stat"));
	EXPECT_NE(NULL, strstr(self->run.err, "missing NAME"));
	EXPECT_EQ(2, CLI("stat", "keep", "keep"));
	EXPECT_EQ(2, CLI("create", "new"));
	EXPECT_NE(NULL, strstr(self->run.err, "missing SIZE"));
	EXPECT_EQ(2, CLI("create", "new", "1K", "--mode"));
	EXPECT_EQ(2, CLI("create", "new", "1K", "--mode=0800"));
	EXPECT_EQ(2, CLI("seal", "--future=yes", "keep"));
	EXPECT_FALSE(exists("new"));
	EXPECT_TRUE(exists("keep"));

	/* Options after the operands, and --help. */
	EXPECT_EQ(0, CLI("create", "later", "1K", "--mode", "0604")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_EQ(0, CLI("stat", "later"));
	EXPECT_NE(NULL, strstr(self->run.out, "\nmode:     0604\n"));
	EXPECT_EQ(0, CLI("seal", "later", "--future"));
	EXPECT_NE(0u, seals_of("later") & SEALSHM_SEAL_FUTURE_WRITE);
	EXPECT_EQ(0, CLI("stat", "--help"));
	EXPECT_STREQ("Usage: sealshm stat [--] NAME\n", self->run.out);
	/* After "--", an option's spelling is a name (none such here). */
	EXPECT_EQ(1, CLI("seal", "--", "--future"));
	EXPECT_NE(NULL, strstr(self->run.err, "'--future'")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_EQ(0, CLI("rm", "later", "keep"));
}

/* A SIZE that is negative, zero, too large or no number is a usage error
 * that says which, and nothing is created. */
TEST_F(cli, bad_sizes_say_why)
{
	static const struct {
		const char *size, *why;
	} cases[] = {
		{ "-1", "invalid size '-1': it is negative" },
		{ "-4K", "invalid size '-4K': it is negative" },
		{ "0", "invalid size '0': it is zero" },
		{ "0G", "invalid size '0G': it is zero" },
		{ "9223372036854775808",
		  "invalid size '9223372036854775808': it is more than 9223372036854775807 bytes" },
		{ "8589934592G", "it is more than 9223372036854775807 bytes" },
		{ "99999999999999999999999", "it is more than 9223372036854775807 bytes" },
		{ "1.5G", "invalid size '1.5G': not a number of bytes" },
		{ "4T", "invalid size '4T': not a number of bytes" },
		{ "+4", "invalid size '+4': not a number of bytes" },
		{ "-1x", "invalid size '-1x': not a number of bytes" },
		{ "", "invalid size '': not a number of bytes" },
	};

	if (sizeof(size_t) < 8)
		SKIP(return, "the largest size differs on a 32-bit system");
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		EXPECT_EQ(2, CLI("create", "sized", cases[i].size)) {
			TH_LOG("size '%s': %s", cases[i].size, self->run.err);
		}
		EXPECT_TRUE(starts_with(self->run.err, "sealshm: create: ")) {
			TH_LOG("%s", self->run.err);
		}
		EXPECT_NE(NULL, strstr(self->run.err, cases[i].why)) {
			TH_LOG("size '%s': %s", cases[i].size, self->run.err);
		}
	}
	EXPECT_FALSE(exists("sized"));
	/* The suffixes work, and sizes up to the limit pass to the library. */
	EXPECT_EQ(0, CLI("create", "sized", "2k"));
	EXPECT_EQ(0, CLI("stat", "sized"));
	EXPECT_NE(NULL, strstr(self->run.out, "\nsize:     2048\n"));
	EXPECT_EQ(0, CLI("rm", "sized"));
}

/* Writing a published (write-sealed) segment says so, not just "Operation
 * not permitted". */
TEST_F(cli, write_to_sealed_segment_says_sealed)
{
	char input[192];
	int fd;

	snprintf(input, sizeof(input), "%s/input", self->d.dir);
	fd = open(input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(2, write(fd, "x\n", 2));
	close(fd);
	EXPECT_EQ(0, CLI("create", "sealed_w", "4K"));
	EXPECT_EQ(0, CLI("seal", "sealed_w"));
	EXPECT_EQ(1, cli_run(&self->run, NULL, input, ARGS("write", "sealed_w")));
	EXPECT_NE(NULL, strstr(self->run.err, "sealshm: cannot write 'sealed_w': it is sealed "
				 "against writes")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_EQ(0, CLI("rm", "sealed_w"));
}

/* create --reserve: a size the machine cannot hold is refused at once,
 * saying why, with nothing created; one it can is resident from the
 * start. */
TEST_F(cli, create_reserve_allocates_or_says_why)
{
	struct sealshm_info info;

	EXPECT_EQ(1, CLI("create", "--reserve", "reserved_big", "1048576G")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_NE(NULL, strstr(self->run.err, "--reserve: 1125899906842624 bytes are more than "
				 "the memory")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_FALSE(exists("reserved_big"));

	EXPECT_EQ(0, CLI("create", "reserved_small", "--reserve", "2M")) {
		TH_LOG("%s", self->run.err);
	}
	ASSERT_EQ(0, sealshm_stat("reserved_small", NULL, &info));
	EXPECT_EQ(2 << 20, info.resident);
	EXPECT_EQ(0, CLI("rm", "reserved_small"));
	EXPECT_EQ(2, CLI("cat", "--reserve", "reserved_small"));
}

/* A NAME that breaks a rule is a usage error that says which rule (the
 * library's phrase, sealshm_check_name()), with the name shown escaped,
 * in every command; rm removes none of its names then. */
TEST_F(cli, bad_names_say_which_rule)
{
	char too_long[SEALSHM_NAME_MAX + 2];
	const struct {
		const char *name, *why;
	} cases[] = {
		{ "", "invalid name '': it is empty" },
		{ "/", "invalid name '/': it is empty" },
		{ too_long, "it is longer than 255 bytes" },
		{ ".", "invalid name '.': it is \".\" or \"..\"" },
		{ "..", "invalid name '..': it is \".\" or \"..\"" },
		{ "a/b", "invalid name 'a/b': it has a '/' after its first byte" },
		{ "a b", "invalid name 'a\\x20b': it has a space or control character (U+0020)" },
		{ "tab\t", "invalid name 'tab\\x09': it has a space or control character (U+0009)" },
		{ "bad\xff", "invalid name 'bad\\xff': it is not well-formed UTF-8" },
		{ "rlo\xe2\x80\xae" "x", "invalid name 'rlo\\u{202e}x': it has an invisible or "
		  "bidirectional control character (U+202E)" },
		{ "zw\xe2\x80\x8b", "invalid name 'zw\\u{200b}': it has an invisible or "
		  "bidirectional control character (U+200B)" },
	};
	static const char *const commands[] = { "create", "write", "cat", "stat", "rm", "seal" };

	memset(too_long, 'n', SEALSHM_NAME_MAX + 1);
	too_long[SEALSHM_NAME_MAX + 1] = '\0';
	ASSERT_EQ(0, create("keep"));
	for (size_t c = 0; c < ELEMENTSOF(commands); c++) {
		for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
			const char *args[] = { commands[c], "--", cases[i].name, NULL, NULL };
			char prefix[32];

			if (c == 0)
				args[3] = "1K";
			if (c == 4)	/* rm: a valid name first, kept */
				args[1] = "keep", args[2] = cases[i].name;
			EXPECT_EQ(2, CLI_ARGS(args)) {
				TH_LOG("%s, case %zu: %s", commands[c], i, self->run.err);
			}
			snprintf(prefix, sizeof(prefix), "sealshm: %s: ", commands[c]);
			EXPECT_TRUE(starts_with(self->run.err, prefix)) {
				TH_LOG("%s", self->run.err);
			}
			EXPECT_NE(NULL, strstr(self->run.err, cases[i].why)) {
				TH_LOG("%s, case %zu: %s", commands[c], i, self->run.err);
			}
			EXPECT_TRUE(no_control_bytes(self->run.err));
		}
	}
	EXPECT_TRUE(exists("keep"));
	EXPECT_EQ(0, CLI("rm", "keep"));
}

/* --- when no trackerd answers ------------------------------------------------- */
/* Every command on an empty socket directory, with @env; each must exit 1
 * with a message that contains @want (and not strerror's words for
 * ENOENT or ENOPKG, which would read as a missing name or package). */
static void no_trackerd(struct __test_metadata *_metadata, struct cli *run,
			const char *const *env, const char *want)
{
	const char *const *const commands[] = {
		ARGS("ls"), ARGS("create", "x", "1K"), ARGS("write", "x"), ARGS("cat", "x"),
		ARGS("stat", "x"), ARGS("rm", "x", "y"), ARGS("seal", "x"),
	};

	for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
		char prefix[32];

		EXPECT_EQ(1, cli_run(run, env, NULL, commands[i])) {
			TH_LOG("%s: %s", commands[i][0], run->err);
		}
		snprintf(prefix, sizeof(prefix), "sealshm: %s: no trackerd answers", commands[i][0]);
		EXPECT_TRUE(starts_with(run->err, prefix)) {
			TH_LOG("%s", run->err);
		}
		EXPECT_NE(NULL, strstr(run->err, want)) {
			TH_LOG("want '%s' in: %s", want, run->err);
		}
		/* One line, said once even for two names. */
		EXPECT_EQ(1, count_lines(run->err)) {
			TH_LOG("%s", run->err);
		}
		EXPECT_EQ(NULL, strstr(run->err, "No such file or directory"));
		EXPECT_EQ(NULL, strstr(run->err, "Package not installed"));
		EXPECT_EQ(NULL, strstr(run->err, "no such name"));
	}
}

/* No trackerd answers and the program the library would start is missing
 * or not executable: every command says so, names the program and how to
 * fix it, and exits 1. */
TEST_F(cli, missing_trackerd_program_is_named)
{
	char sock[160], env_sock[200], env_prog[200], want[256], prog[160];
	const char *const env[] = { "SEALSHM_NO_AUTOSTART", env_sock, env_prog, NULL };
	int fd;

	snprintf(sock, sizeof(sock), "%s/empty/trackerd.sock", self->d.dir);
	snprintf(prog, sizeof(prog), "%s/empty", self->d.dir);
	ASSERT_EQ(0, mkdir(prog, 0700));
	snprintf(env_sock, sizeof(env_sock), "SEALSHM_SOCKET=%s", sock);

	snprintf(env_prog, sizeof(env_prog), "SEALSHM_TRACKERD=/nonexistent/trackerd");
	no_trackerd(_metadata, &self->run, env, "no trackerd answers, and the program to start "
		    "one is missing: /nonexistent/trackerd (install sealshm, set SEALSHM_TRACKERD");

	snprintf(prog, sizeof(prog), "%s/trackerd.txt", self->d.dir);
	fd = open(prog, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	close(fd);
	snprintf(env_prog, sizeof(env_prog), "SEALSHM_TRACKERD=%s", prog);
	snprintf(want, sizeof(want), "the program to start one is not executable: %s "
		 "(make it executable, set SEALSHM_TRACKERD", prog);
	no_trackerd(_metadata, &self->run, env, want);
	EXPECT_NE(0, access(sock, F_OK));
}

/* No trackerd answers for other reasons: the message says which (a
 * socket given with --socket, SEALSHM_NO_AUTOSTART, a trackerd that was
 * started but exited at once), never "No such file or directory"; with a
 * trackerd, a name that does not exist is "no such name". */
TEST_F(cli, no_trackerd_is_not_a_missing_name)
{
	char sock[160], env_sock[200], want[512];
	const char *const no_auto[] = { "SEALSHM_NO_AUTOSTART=1", env_sock, NULL };
	const char *const dies[] = { "SEALSHM_NO_AUTOSTART", env_sock, "SEALSHM_TRACKERD=/bin/false",
				     NULL };

	snprintf(sock, sizeof(sock), "%s/none.sock", self->d.dir);
	snprintf(env_sock, sizeof(env_sock), "SEALSHM_SOCKET=%s", sock);

	EXPECT_EQ(1, CLI("--socket", sock, "stat", "x"));
	snprintf(want, sizeof(want), "sealshm: stat: no trackerd answers at %s, and none is "
		 "started at a socket given with --socket (start one there: trackerd --socket %s)\n",
		 sock, sock);
	EXPECT_STREQ(want, self->run.err);

	snprintf(want, sizeof(want), "no trackerd answers at %s, and SEALSHM_NO_AUTOSTART "
		 "forbids starting one", sock);
	no_trackerd(_metadata, &self->run, no_auto, want);

	if (access("/bin/false", X_OK) == 0) {
		snprintf(want, sizeof(want), "no trackerd answers at %s, and the one started "
			 "(/bin/false) did not come up; its log, if it wrote one, is %s.log", sock,
			 sock);
		no_trackerd(_metadata, &self->run, dies, want);
	}

	EXPECT_EQ(1, CLI("stat", "nope"));
	EXPECT_STREQ("sealshm: cannot stat 'nope': no such name\n", self->run.err);
	EXPECT_EQ(1, CLI("rm", "nope", "-"));
	EXPECT_STREQ("sealshm: cannot remove 'nope': no such name\n"
		     "sealshm: cannot remove '-': no such name\n", self->run.err);
	EXPECT_EQ(1, CLI("cat", "nope"));
	EXPECT_STREQ("sealshm: cannot attach 'nope': no such name\n", self->run.err);
}

/* --- what names look like ------------------------------------------------------ */
/* ls and stat show a valid name as itself, but a backslash doubled: a name
 * never shows as another one's escape.  A name typed wrong is shown
 * escaped in the error too. */
TEST_F(cli, valid_names_show_as_themselves_backslash_doubled)
{
	ASSERT_EQ(0, create("back\\x41"));
	ASSERT_EQ(0, create("caf\xc3\xa9_\xe2\x9d\xa4\xef\xb8\x8f"));

	ASSERT_EQ(0, CLI("ls")) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_TRUE(has_row(self->run.out, "back\\\\x41")) {
		TH_LOG("ls:\n%s", self->run.out);
	}
	EXPECT_TRUE(has_row(self->run.out, "caf\xc3\xa9_\xe2\x9d\xa4\xef\xb8\x8f")) {
		TH_LOG("ls:\n%s", self->run.out);
	}
	ASSERT_EQ(0, CLI("stat", "back\\x41"));
	EXPECT_TRUE(starts_with(self->run.out, "name:     back\\\\x41\n")) {
		TH_LOG("stat:\n%s", self->run.out);
	}
	ASSERT_EQ(0, CLI("stat", "caf\xc3\xa9_\xe2\x9d\xa4\xef\xb8\x8f"));
	EXPECT_TRUE(starts_with(self->run.out,
				"name:     caf\xc3\xa9_\xe2\x9d\xa4\xef\xb8\x8f\n")) {
		TH_LOG("stat:\n%s", self->run.out);
	}

	/* The terminal's title would change: the name is refused, and shown
	 * escaped. */
	EXPECT_NE(0, CLI("stat", "esc\x1b]0;owned\x07"));
	EXPECT_NE(NULL, strstr(self->run.err, "'esc\\x1b]0;owned\\x07'")) {
		TH_LOG("stderr: %s", self->run.err);
	}
	EXPECT_TRUE(no_control_bytes(self->run.err));

	EXPECT_EQ(0, sealshm_unlink_name("back\\x41", NULL));
	EXPECT_EQ(0, sealshm_unlink_name("caf\xc3\xa9_\xe2\x9d\xa4\xef\xb8\x8f", NULL));
}

/* Names a hostile or older trackerd could list, as a fake trackerd sends
 * them: ls shows every character that is no valid name character escaped,
 * never the byte itself.  stat shows the valid ones among them as ls does;
 * the others it refuses as operands, shown escaped, before asking anyone
 * (the library takes a STAT reply only about the name asked for, so no
 * trackerd can make stat print them). */
TEST_F(cli, hostile_names_show_escaped)
{
	const char *env[] = { "SEALSHM_NO_AUTOSTART=1", NULL };
	char sock[160];

	snprintf(sock, sizeof(sock), "%s/fake.sock", self->d.dir);
	ASSERT_EQ(0, hostile_names_serve(&self->fake, sock));

	ASSERT_EQ(0, cli_run(&self->run, env, NULL, ARGS("--socket", sock, "ls"))) {
		TH_LOG("%s", self->run.err);
	}
	EXPECT_TRUE(no_control_bytes(self->run.out)) {
		TH_LOG("ls:\n%s", self->run.out);
	}
	for (size_t i = 0; i < HOSTILE_NAMES_N; i++) {
		EXPECT_TRUE(has_row(self->run.out, hostile_names[i].shown)) {
			TH_LOG("no row for '%s' in:\n%s", hostile_names[i].shown,
			       self->run.out);
		}
		if (strcmp(hostile_names[i].name, hostile_names[i].shown))
			EXPECT_EQ(NULL, strstr(self->run.out, hostile_names[i].name));
	}

	for (size_t i = 0; i < HOSTILE_NAMES_N; i++) {
		const char *name = hostile_names[i].name, *shown = hostile_names[i].shown;
		char want[SEALSHM_NAME_MAX * 4 + 16];

		if (sealshm_check_name(name, NULL) == 0) {
			ASSERT_EQ(0, cli_run(&self->run, env, NULL,
					     ARGS("--socket", sock, "stat", name))) {
				TH_LOG("stat '%s': %s", shown, self->run.err);
			}
			snprintf(want, sizeof(want), "name:     %s\n", shown);
			EXPECT_TRUE(starts_with(self->run.out, want)) {
				TH_LOG("stat:\n%s", self->run.out);
			}
		} else {
			EXPECT_EQ(2, cli_run(&self->run, env, NULL,
					     ARGS("--socket", sock, "stat", name)));
			snprintf(want, sizeof(want), "'%s'", shown);
			EXPECT_NE(NULL, strstr(self->run.err, want)) {
				TH_LOG("stderr: %s", self->run.err);
			}
			EXPECT_TRUE(no_control_bytes(self->run.err));
		}
		EXPECT_TRUE(no_control_bytes(self->run.out));
	}
}

TEST_HARNESS_MAIN
