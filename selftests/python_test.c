// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * python_test: ShareableList interoperability with the real CPython on this
 * machine, through the SEALSHM_POSIX backend (shm_open(3) in /dev/shm, named
 * as CPython's SharedMemory names its segments).
 *
 *   - Python creates ['howdy', b'HoWdY', -273.154, 100, None, True, 42]; C
 *     attaches, reads every item, checks the format, compares the bytes with
 *     a list C creates from the same items, writes -78.5 and 'dry ice', is
 *     refused a too-long string (nothing changes); Python reads the changes.
 *   - C creates the list; Python attaches and reads it identically (bytes,
 *     format, items), changes item types; C reads those changes.
 *   - Multi-byte UTF-8 is sized by bytes and reaches Python whole.
 *   - The POSIX backend itself: name, mode, O_CLOEXEC, -EOPNOTSUPP from
 *     sealshm_seal(), -EEXIST, -ENOENT, -EBADMSG for an empty file.
 *
 * Needs python3 >= 3.9 with multiprocessing.shared_memory: without it every
 * test is skipped with the reason.  Every name is unlinked by the test that
 * made it (teardown checks /dev/shm); the Python side unregisters its
 * segments from the resource tracker, and the tests check that nothing,
 * resource_tracker warnings included, reaches Python's stderr.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

#define HOWDY_FORMAT	"8s8sdqxxxxxx?xxxxxxxx?q"
#define HOWDY_REPR	"['howdy', b'HoWdY', -273.154, 100, None, True, 42]"
#define HOWDY_SIZE	191
#define OUT_MAX		(64 * 1024)

static const struct sealshm_item howdy[] = {
	{ .type = SEALSHM_ITEM_STR, .u.s = { "howdy", 5 } },
	{ .type = SEALSHM_ITEM_BYTES, .u.s = { "HoWdY", 5 } },
	{ .type = SEALSHM_ITEM_FLOAT, .u.f = -273.154 },
	{ .type = SEALSHM_ITEM_INT, .u.i = 100 },
	{ .type = SEALSHM_ITEM_NONE },
	{ .type = SEALSHM_ITEM_BOOL, .u.b = 1 },
	{ .type = SEALSHM_ITEM_INT, .u.i = 42 },
};

/*
 * The Python side.  Before 3.13 every SharedMemory, attached ones included,
 * is registered with the resource tracker, which unlinks it (and warns) when
 * the process ends: names this test owns are unregistered right away.
 *   argv: ACTION NAME [CODE]
 *   create  ShareableList(howdy, name=NAME)
 *   attach  ShareableList(name=NAME)
 * then print the segment's bytes in hex, .format and ascii(list(L)), run
 * CODE (L is the list) and close without unlinking.
 */
static const char py_script[] =
	"import sys\n"
	"from multiprocessing import shared_memory as sm, resource_tracker as rt\n"
	"act, name = sys.argv[1], sys.argv[2]\n"
	"if act == 'create':\n"
	"    L = sm.ShareableList(['howdy', b'HoWdY', -273.154, 100, None, True, 42], name=name)\n"
	"else:\n"
	"    L = sm.ShareableList(name=name)\n"
	"rt.unregister(L.shm._name, 'shared_memory')\n"
	"print(bytes(L.shm.buf).hex())\n"
	"print(L.format)\n"
	"print(ascii(list(L)))\n"
	"if len(sys.argv) > 3:\n"
	"    exec(sys.argv[3])\n"
	"L.shm.close()\n";

static const char py_version_script[] =
	"import sys\n"
	"import multiprocessing.shared_memory\n"
	"print('%d %d' % sys.version_info[:2])\n";

struct py_run {
	int status;		/* waitpid() status */
	char out[OUT_MAX];
	char err[OUT_MAX];
};

/* Read @fd to end of file into @buf (NUL-terminated, cut at @len - 1). */
static void read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char sink[4096];

	for (;;) {
		ssize_t r;

		if (n < len - 1)
			r = read(fd, buf + n, len - 1 - n);
		else
			r = read(fd, sink, sizeof(sink));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n < len - 1)
			n += (size_t)r;
	}
	buf[n] = '\0';
}

/*
 * Run @argv (found in $PATH).  stderr is a pipe read
 * to its end: the resource tracker inherits it and writes its leak warnings
 * only when Python has gone, so reading until every writer closed it is
 * what catches them.  stdout is a memfd (read afterwards).  Returns 0 or
 * -errno; run->status is the exit status (127: no python3).
 */
static int run_argv(struct py_run *run, char *const argv[])
{
	_cleanup_close_ int out = -EBADF, err_r = -EBADF, err_w = -EBADF;
	int p[2];
	pid_t pid;
	ssize_t n;

	out = memfd_create("python_test-stdout", MFD_CLOEXEC);
	if (out < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	err_r = p[0];
	err_w = p[1];

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
		    dup2(err_w, STDERR_FILENO) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	err_w = safe_close(err_w);
	read_all(err_r, run->err, sizeof(run->err));
	while (waitpid(pid, &run->status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	n = pread(out, run->out, sizeof(run->out) - 1, 0);
	if (n < 0)
		return -errno;
	run->out[n] = '\0';
	return 0;
}

/* python3 -c @script with up to three arguments. */
static int run_python(struct py_run *run, const char *script, const char *a1, const char *a2,
		      const char *a3)
{
	char *const argv[] = {
		"python3", "-c", (char *)script, (char *)a1, (char *)a2, (char *)a3, NULL,
	};

	return run_argv(run, argv);
}

/* The @i-th line (0-based) of @text into @buf, without its newline. */
static const char *line_of(const char *text, int i, char *buf, size_t len)
{
	const char *p = text, *e;

	while (i-- > 0 && p) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		p = "";
	e = strchrnul(p, '\n');
	snprintf(buf, len, "%.*s", (int)(e - p), p);
	return buf;
}

/* Lower-case hex of @len bytes, as Python's bytes.hex(). */
static void to_hex(const void *data, size_t len, char *buf)
{
	const unsigned char *d = data;

	for (size_t i = 0; i < len; i++)
		sprintf(buf + 2 * i, "%02x", d[i]);
	buf[2 * len] = '\0';
}

static bool dev_shm_has(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	return stat(path, &st) == 0;
}

/* Names in /dev/shm starting with @prefix: count them, and unlink them
 * when @remove (teardown cleans up after a failed test). */
static int dev_shm_count(const char *prefix, bool remove)
{
	size_t plen = strlen(prefix);
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/dev/shm");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[NAME_MAX + 2];

		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		n++;
		snprintf(path, sizeof(path), "/%s", de->d_name);
		if (remove)
			(void)shm_unlink(path);
	}
	closedir(d);
	return n;
}

FIXTURE(py) {
	char prefix[64];
	char name[80];
	int fds_before;
	struct py_run *run;
	char skip[256];		/* why the tests cannot run, or "" */
};

/* The harness runs the test body after a SKIP() in the setup: every test
 * starts with this. */
#define NEED_PYTHON(self)						\
	do {								\
		if ((self)->skip[0])					\
			SKIP(return, "%s", (self)->skip);		\
	} while (0)

FIXTURE_SETUP(py)
{
	int major = 0, minor = 0;

	snprintf(self->prefix, sizeof(self->prefix), "sealshm_pyt_%d_", (int)getpid());
	snprintf(self->name, sizeof(self->name), "%sa", self->prefix);
	self->run = calloc(1, sizeof(*self->run));
	ASSERT_NE(NULL, self->run);
	ASSERT_EQ(0, dev_shm_count(self->prefix, true));
	self->fds_before = helper_count_fds(0);

	ASSERT_EQ(0, run_python(self->run, py_version_script, NULL, NULL, NULL));
	if (WIFEXITED(self->run->status) && WEXITSTATUS(self->run->status) == 127)
		snprintf(self->skip, sizeof(self->skip), "python3 not found in PATH");
	else if (!WIFEXITED(self->run->status) || WEXITSTATUS(self->run->status) != 0)
		snprintf(self->skip, sizeof(self->skip),
			 "python3 has no multiprocessing.shared_memory: %.200s", self->run->err);
	else if (sscanf(self->run->out, "%d %d", &major, &minor) != 2 ||
		 major < 3 || (major == 3 && minor < 9))
		snprintf(self->skip, sizeof(self->skip), "python3 is %d.%d, older than 3.9",
			 major, minor);
}

FIXTURE_TEARDOWN(py)
{
	/* Every test unlinks what it made: anything left is a leak. */
	EXPECT_EQ(0, dev_shm_count(self->prefix, true));
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
	free(self->run);
}

/* Run the Python side; it must succeed and print nothing on stderr. */
#define PY_OK(self, act, name, code)							\
	do {										\
		ASSERT_EQ(0, run_python((self)->run, py_script, (act), (name), (code)));	\
		ASSERT_TRUE(WIFEXITED((self)->run->status) &&				\
			    WEXITSTATUS((self)->run->status) == 0) {			\
			TH_LOG("python3 %s failed: %s", (act), (self)->run->err);	\
		}									\
		EXPECT_STREQ("", (self)->run->err);					\
	} while (0)

static void expect_str(struct __test_metadata *_metadata, struct sealshm_slist *l, int64_t i,
		       uint32_t type, const char *want)
{
	struct sealshm_item it = { 0 };
	char buf[256];

	ASSERT_EQ(0, sealshm_slist_get(l, i, &it));
	ASSERT_EQ(type, it.type);
	ASSERT_EQ(strlen(want), it.u.s.len);
	EXPECT_EQ(0, memcmp(want, it.u.s.ptr, it.u.s.len));
	memset(&it, 0, sizeof(it));
	ASSERT_EQ((int)strlen(want), sealshm_slist_get_copy(l, i, buf, sizeof(buf), &it));
	EXPECT_EQ(type, it.type);
	EXPECT_EQ((const void *)buf, it.u.s.ptr);
	EXPECT_EQ(0, memcmp(want, buf, strlen(want)));
	if (type == SEALSHM_ITEM_STR)
		EXPECT_STREQ(want, buf);
}

static void expect_num(struct __test_metadata *_metadata, struct sealshm_slist *l, int64_t i,
		       uint32_t type, double want)
{
	struct sealshm_item it = { 0 };

	ASSERT_EQ(0, sealshm_slist_get(l, i, &it));
	ASSERT_EQ(type, it.type);
	switch (type) {
	case SEALSHM_ITEM_INT:
		EXPECT_EQ((int64_t)want, it.u.i);
		break;
	case SEALSHM_ITEM_FLOAT:
		EXPECT_TRUE(it.u.f == want);
		break;
	case SEALSHM_ITEM_BOOL:
		EXPECT_EQ((uint32_t)want, it.u.b);
		break;
	case SEALSHM_ITEM_NONE:
		break;
	}
}

static void expect_format(struct __test_metadata *_metadata, struct sealshm_slist *l,
			  const char *want)
{
	char buf[128];

	ASSERT_EQ((int)strlen(want), sealshm_slist_format(l, buf, sizeof(buf)));
	EXPECT_STREQ(want, buf);
}

static void expect_howdy(struct __test_metadata *_metadata, struct sealshm_slist *l)
{
	ASSERT_EQ(7, sealshm_slist_len(l));
	expect_str(_metadata, l, 0, SEALSHM_ITEM_STR, "howdy");
	expect_str(_metadata, l, 1, SEALSHM_ITEM_BYTES, "HoWdY");
	expect_num(_metadata, l, 2, SEALSHM_ITEM_FLOAT, -273.154);
	expect_num(_metadata, l, 3, SEALSHM_ITEM_INT, 100);
	expect_num(_metadata, l, 4, SEALSHM_ITEM_NONE, 0);
	expect_num(_metadata, l, 5, SEALSHM_ITEM_BOOL, 1);
	expect_num(_metadata, l, -1, SEALSHM_ITEM_INT, 42);
	expect_format(_metadata, l, HOWDY_FORMAT);
}

/* Python creates the list, C reads and changes it, Python reads it back. */
TEST_F(py, python_creates_c_reads)
{
	SEALSHM_OPTS(sealshm_opts, posix, .flags = SEALSHM_POSIX);
	struct sealshm_item dry = { .type = SEALSHM_ITEM_STR, .u.s = { "dry ice", 7 } };
	struct sealshm_item longer = { .type = SEALSHM_ITEM_STR, .u.s = { "dry ice, colder", 15 } };
	struct sealshm_item longb = { .type = SEALSHM_ITEM_BYTES, .u.s = { "HoWdY, pArDnEr", 14 } };
	struct sealshm_item cold = { .type = SEALSHM_ITEM_FLOAT, .u.f = -78.5 };
	struct sealshm_slist *l = NULL, *mine = NULL;
	char hex[2 * HOWDY_SIZE + 1], line[2 * HOWDY_SIZE + 64], cname[96];
	unsigned char before[HOWDY_SIZE];
	struct sealshm *shm;

	NEED_PYTHON(self);
	PY_OK(self, "create", self->name, NULL);
	EXPECT_STREQ(HOWDY_FORMAT, line_of(self->run->out, 1, line, sizeof(line)));
	EXPECT_STREQ(HOWDY_REPR, line_of(self->run->out, 2, line, sizeof(line)));
	ASSERT_TRUE(dev_shm_has(self->name));

	ASSERT_EQ(0, sealshm_slist_attach(self->name, &posix, &l));
	shm = sealshm_slist_shm(l);
	ASSERT_NE(NULL, shm);
	ASSERT_EQ(HOWDY_SIZE, sealshm_size(shm));
	EXPECT_STREQ(self->name, sealshm_name(shm));
	expect_howdy(_metadata, l);

	/* Byte for byte: what Python wrote is what C maps ... */
	to_hex(sealshm_buf(shm), HOWDY_SIZE, hex);
	EXPECT_STREQ(hex, line_of(self->run->out, 0, line, sizeof(line)));
	/* ... and what C itself writes for the same items. */
	snprintf(cname, sizeof(cname), "%sc", self->prefix);
	ASSERT_EQ(0, sealshm_slist_create(cname, howdy, ELEMENTSOF(howdy), &posix, &mine));
	ASSERT_EQ(HOWDY_SIZE, sealshm_size(sealshm_slist_shm(mine)));
	EXPECT_EQ(0, memcmp(sealshm_buf(shm), sealshm_buf(sealshm_slist_shm(mine)), HOWDY_SIZE));
	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(mine)));
	EXPECT_EQ(0, sealshm_slist_close(mine));
	EXPECT_FALSE(dev_shm_has(cname));

	/* C writes; a too-long str or bytes is refused and changes nothing. */
	ASSERT_EQ(0, sealshm_slist_set(l, 2, &cold));
	ASSERT_EQ(0, sealshm_slist_set(l, 0, &dry));
	memcpy(before, sealshm_buf(shm), HOWDY_SIZE);
	EXPECT_EQ(-E2BIG, sealshm_slist_set(l, 0, &longer));
	EXPECT_EQ(-E2BIG, sealshm_slist_set(l, 1, &longb));
	EXPECT_EQ(-E2BIG, sealshm_slist_set(l, 3, &longer));
	EXPECT_EQ(0, memcmp(before, sealshm_buf(shm), HOWDY_SIZE));
	expect_str(_metadata, l, 0, SEALSHM_ITEM_STR, "dry ice");
	expect_num(_metadata, l, 2, SEALSHM_ITEM_FLOAT, -78.5);
	expect_format(_metadata, l, HOWDY_FORMAT);

	/* Python reads the changes: same bytes, same format, the new items. */
	PY_OK(self, "attach", self->name, NULL);
	to_hex(sealshm_buf(shm), HOWDY_SIZE, hex);
	EXPECT_STREQ(hex, line_of(self->run->out, 0, line, sizeof(line)));
	EXPECT_STREQ(HOWDY_FORMAT, line_of(self->run->out, 1, line, sizeof(line)));
	EXPECT_STREQ("['dry ice', b'HoWdY', -78.5, 100, None, True, 42]",
		     line_of(self->run->out, 2, line, sizeof(line)));

	EXPECT_EQ(0, sealshm_unlink(shm));
	EXPECT_EQ(0, sealshm_slist_close(l));
	EXPECT_FALSE(dev_shm_has(self->name));
	EXPECT_EQ(-ENOENT, sealshm_slist_attach(self->name, &posix, &l));
}

/* C creates the list, Python reads it identically and changes item types;
 * C reads the changes. */
TEST_F(py, c_creates_python_reads)
{
	SEALSHM_OPTS(sealshm_opts, posix, .flags = SEALSHM_POSIX);
	char hex[2 * HOWDY_SIZE + 1], line[2 * HOWDY_SIZE + 64];
	struct sealshm_slist *l = NULL;
	struct sealshm *shm;

	NEED_PYTHON(self);
	ASSERT_EQ(0, sealshm_slist_create(self->name, howdy, ELEMENTSOF(howdy), &posix, &l));
	shm = sealshm_slist_shm(l);
	ASSERT_EQ(HOWDY_SIZE, sealshm_size(shm));
	ASSERT_TRUE(dev_shm_has(self->name));
	expect_howdy(_metadata, l);

	PY_OK(self, "attach", self->name, "L[6] = 'x'; L[4] = 7; L[0] = 3.5; L[5] = False");
	EXPECT_STREQ(HOWDY_FORMAT, line_of(self->run->out, 1, line, sizeof(line)));
	EXPECT_STREQ(HOWDY_REPR, line_of(self->run->out, 2, line, sizeof(line)));

	/* Python's bytes before its writes were C's; redo them to compare. */
	{
		struct sealshm_slist *ref = NULL;
		char rname[96];

		snprintf(rname, sizeof(rname), "%sr", self->prefix);
		ASSERT_EQ(0, sealshm_slist_create(rname, howdy, ELEMENTSOF(howdy), &posix, &ref));
		to_hex(sealshm_buf(sealshm_slist_shm(ref)), HOWDY_SIZE, hex);
		EXPECT_STREQ(hex, line_of(self->run->out, 0, line, sizeof(line)));
		EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(ref)));
		EXPECT_EQ(0, sealshm_slist_close(ref));
	}

	/* CPython's type changes: an 8-byte slot given a str becomes "8s", a
	 * str slot given a float "d", None given an int "q". */
	ASSERT_EQ(7, sealshm_slist_len(l));
	expect_num(_metadata, l, 0, SEALSHM_ITEM_FLOAT, 3.5);
	expect_str(_metadata, l, 1, SEALSHM_ITEM_BYTES, "HoWdY");
	expect_num(_metadata, l, 4, SEALSHM_ITEM_INT, 7);
	expect_num(_metadata, l, 5, SEALSHM_ITEM_BOOL, 0);
	expect_str(_metadata, l, 6, SEALSHM_ITEM_STR, "x");
	expect_format(_metadata, l, "d8sdqqxxxxxxx?8s");

	/* And Python sees C's view of it once more. */
	PY_OK(self, "attach", self->name, NULL);
	to_hex(sealshm_buf(shm), HOWDY_SIZE, hex);
	EXPECT_STREQ(hex, line_of(self->run->out, 0, line, sizeof(line)));
	EXPECT_STREQ("[3.5, b'HoWdY', -273.154, 100, 7, False, 'x']",
		     line_of(self->run->out, 2, line, sizeof(line)));

	EXPECT_EQ(0, sealshm_unlink(shm));
	EXPECT_EQ(0, sealshm_slist_close(l));
	EXPECT_FALSE(dev_shm_has(self->name));
}

/* Better than CPython: a str slot is sized by its UTF-8 bytes (CPython
 * counts characters and cuts the text), and Python reads it whole. */
TEST_F(py, utf8_sized_by_bytes)
{
	SEALSHM_OPTS(sealshm_opts, posix, .flags = SEALSHM_POSIX);
	static const char greet[] = "gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93";	/* "grüße ✓" */
	const struct sealshm_item items[] = {
		{ .type = SEALSHM_ITEM_STR, .u.s = { greet, sizeof(greet) - 1 } },
		{ .type = SEALSHM_ITEM_STR, .u.s = { "ascii", 5 } },
	};
	struct sealshm_item it = { .type = SEALSHM_ITEM_STR, .u.s = { "\xc3\xa9t\xc3\xa9", 5 } };
	struct sealshm_slist *l = NULL;
	char line[256];

	NEED_PYTHON(self);
	ASSERT_EQ(11, sizeof(greet) - 1);
	ASSERT_EQ(0, sealshm_slist_create(self->name, items, ELEMENTSOF(items), &posix, &l));
	expect_format(_metadata, l, "16s8s");
	expect_str(_metadata, l, 0, SEALSHM_ITEM_STR, greet);

	PY_OK(self, "attach", self->name, "L[1] = '\\u00e9t\\u00e9'");
	EXPECT_STREQ("16s8s", line_of(self->run->out, 1, line, sizeof(line)));
	EXPECT_STREQ("['gr\\xfc\\xdfe \\u2713', 'ascii']",
		     line_of(self->run->out, 2, line, sizeof(line)));
	/* Python's multi-byte write arrives as the same UTF-8. */
	expect_str(_metadata, l, 1, SEALSHM_ITEM_STR, "\xc3\xa9t\xc3\xa9");
	EXPECT_EQ(1, sealshm_slist_count(l, &it));
	EXPECT_EQ(1, sealshm_slist_index(l, &it));

	EXPECT_EQ(0, sealshm_unlink(sealshm_slist_shm(l)));
	EXPECT_EQ(0, sealshm_slist_close(l));
}

/* The backend on its own: a plain segment Python's SharedMemory opens. */
TEST_F(py, posix_backend)
{
	SEALSHM_OPTS(sealshm_opts, posix, .flags = SEALSHM_POSIX);
	SEALSHM_OPTS(sealshm_opts, posix_ro, .flags = SEALSHM_POSIX | SEALSHM_RDONLY);
	SEALSHM_OPTS(sealshm_opts, posix_last, .flags = SEALSHM_POSIX | SEALSHM_LIFETIME_LAST);
	struct sealshm *shm = NULL, *other = NULL, *anon = NULL;
	char path[PATH_MAX], line[256], ename[96];
	struct stat st;
	int fd, fl;

	NEED_PYTHON(self);
	ASSERT_EQ(0, sealshm_create(self->name, 5000, &posix, &shm));
	snprintf(path, sizeof(path), "/dev/shm/%s", self->name);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0, st.st_mode & 077);		/* 0600, as CPython's */
	EXPECT_EQ(5000, st.st_size);
	EXPECT_EQ(5000, sealshm_size(shm));
	fl = fcntl(sealshm_fd(shm), F_GETFD);
	EXPECT_TRUE(fl >= 0 && (fl & FD_CLOEXEC));
	memcpy(sealshm_buf(shm), "from C", 6);

	/* No seals on a /dev/shm file; no lifetime without trackerd. */
	EXPECT_EQ(-EOPNOTSUPP, sealshm_seal(shm, SEALSHM_SEAL_WRITE));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-EINVAL, sealshm_create("x", 10, &posix_last, &other));
	EXPECT_EQ(-EEXIST, sealshm_create(self->name, 10, &posix, &other));
	EXPECT_EQ(NULL, other);

	/* Python sees it under the same name. */
	ASSERT_EQ(0, run_python(self->run,
				"import sys\n"
				"from multiprocessing import shared_memory as sm, resource_tracker as rt\n"
				"s = sm.SharedMemory(sys.argv[1])\n"
				"rt.unregister(s._name, 'shared_memory')\n"
				"print(s.size, bytes(s.buf[:6]).decode())\n"
				"s.buf[6:9] = b'+Py'\n"
				"s.close()\n", self->name, NULL, NULL));
	EXPECT_EQ(0, self->run->status);
	EXPECT_STREQ("", self->run->err);
	EXPECT_STREQ("5000 from C", line_of(self->run->out, 0, line, sizeof(line)));
	EXPECT_EQ(0, memcmp(sealshm_buf(shm), "from C+Py", 9));

	/* Read-only attach maps read-only, from an O_RDONLY fd. */
	ASSERT_EQ(0, sealshm_attach(self->name, &posix_ro, &other));
	EXPECT_EQ(5000, sealshm_size(other));
	EXPECT_EQ(0, memcmp(sealshm_buf(other), "from C+Py", 9));
	EXPECT_EQ(O_RDONLY, fcntl(sealshm_fd(other), F_GETFL) & O_ACCMODE);
	EXPECT_EQ(-EOPNOTSUPP, sealshm_seal(other, SEALSHM_SEAL_WRITE));
	EXPECT_EQ(0, sealshm_close(other));
	other = NULL;

	/* unlink_name with the flag; then the name is gone. */
	EXPECT_EQ(0, sealshm_unlink_name(self->name, &posix));
	EXPECT_EQ(-ENOENT, sealshm_unlink_name(self->name, &posix));
	EXPECT_EQ(-ENOENT, sealshm_unlink(shm));
	EXPECT_EQ(-ENOENT, sealshm_attach(self->name, &posix, &other));
	EXPECT_EQ(0, sealshm_close(shm));

	/* An empty file is no segment (nothing to map): refused. */
	snprintf(ename, sizeof(ename), "/%se", self->prefix);
	fd = shm_open(ename, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-EBADMSG, sealshm_attach(ename, &posix, &other));
	EXPECT_EQ(0, sealshm_unlink_name(ename, &posix));

	/* No name: CPython's "psm_" + 8 hex digits, in /dev/shm. */
	ASSERT_EQ(0, sealshm_create(NULL, 100, &posix, &anon));
	EXPECT_EQ(0, strncmp(sealshm_name(anon), "psm_", 4));
	EXPECT_EQ(12, strlen(sealshm_name(anon)));
	EXPECT_TRUE(dev_shm_has(sealshm_name(anon)));
	EXPECT_EQ(0, sealshm_unlink(anon));
	EXPECT_FALSE(dev_shm_has(sealshm_name(anon)));
	EXPECT_EQ(0, sealshm_close(anon));
}

/* The examples: slist_from_python runs examples/slist_writer.py (found next
 * to this source file) and reads its list; slist_share -p shares one between
 * two processes through /dev/shm.  Neither may leave a name behind. */
TEST_F(py, examples)
{
	char dir[PATH_MAX], prog[PATH_MAX + 32], script[PATH_MAX], cmd[3 * PATH_MAX], *slash;
	int before, status;

	NEED_PYTHON(self);
	ASSERT_EQ(0, helper_examples_dir(dir, sizeof(dir)));
	snprintf(script, sizeof(script), "%s", __FILE__);
	slash = strrchr(script, '/');
	if (!slash)
		SKIP(return, "cannot locate examples/slist_writer.py from %s", __FILE__);
	snprintf(slash, sizeof(script) - (size_t)(slash - script), "/../examples/slist_writer.py");
	snprintf(prog, sizeof(prog), "%s/slist_from_python", dir);
	if (access(script, R_OK) < 0 || access(prog, X_OK) < 0)
		SKIP(return, "no %.400s or %.400s", script, prog);

	before = dev_shm_count("list_from_python_", false);
	ASSERT_EQ(0, run_argv(self->run, (char *const[]){ prog, script, NULL }));
	EXPECT_EQ(0, self->run->status) {
		TH_LOG("slist_from_python: %s", self->run->err);
	}
	EXPECT_STREQ("", self->run->err);
	EXPECT_NE(NULL, strstr(self->run->out, "[0] str    'written by Python'"));
	EXPECT_NE(NULL, strstr(self->run->out, "[3] int    1099511627776"));
	EXPECT_NE(NULL, strstr(self->run->out,
			       "format '24s8sdqxxxxxx?xxxxxxxx?16s'"));
	EXPECT_EQ(before, dev_shm_count("list_from_python_", false));

	snprintf(cmd, sizeof(cmd), "%s/slist_share -p %sshare >/dev/null", dir, self->prefix);
	status = system(cmd);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_HARNESS_MAIN
