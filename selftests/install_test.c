// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * install_test: `make install DESTDIR=<tmp> PREFIX=/usr` of the source tree
 * puts every file where a Linux user expects it (the library's SONAME link
 * chain, the header, sealshm.pc, trackerd, every tools/ program, every man
 * page, the systemd units), with no trace of DESTDIR inside; a program from
 * outside the tree builds with `pkg-config --cflags --libs sealshm` against
 * that copy and, run against the installed trackerd, creates and attaches a
 * segment; `make uninstall` then leaves nothing but directories.
 *
 * The Python package goes where the Python under test (SEALSHM_TEST_PYTHON,
 * given to make as PYTHON) finds packages installed under /usr, without a
 * trackerd of its own; imported from the staged tree (PYTHONPATH), it
 * starts the installed trackerd and shares a segment through it.  Until
 * the tree has the package (python/sealshm/__init__.py and the extension
 * python/ext/module.c), or when SEALSHM_TEST_PY_SKIP says why it is not
 * built, that test skips, saying so.
 *
 * The tree is built in a scratch O of its own (SEALSHM_TEST_O/install-test,
 * kept between runs so that only the first one builds everything): PREFIX
 * is compiled into the library (the trackerd it starts), so installing the
 * build under test with PREFIX=/usr would rebuild it under the feet of the
 * other tests.  Under SEALSHM_TEST_SANITIZE=1 that build is a SANITIZE=1
 * one, and the outside program gets the sanitizer flags too (a library
 * built with ASan needs its runtime in the program).
 */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "helpers.h"

/* A build from scratch takes seconds (a sanitizer build about ten); a
 * loaded 2-core CI machine may take many times that. */
#define MAKE_TIMEOUT_MS		150000
#define CC_TIMEOUT_MS		60000

#define PROBE_NAME		"install_probe"
#define PROBE_TEXT		"written through the installed library"
#define PY_PROBE_NAME		"install_py_probe"

/* The outside program: only what an installed copy offers (<sealshm.h>,
 * -lsealshm).  It says which libsealshm it runs with (dladdr() of a string
 * inside the library), creates PROBE_NAME, attaches it by name and reads
 * through the second mapping what it wrote through the first. */
static const char probe_src[] =
	"#define _GNU_SOURCE\n"
	"#include <dlfcn.h>\n"
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"#include <sealshm.h>\n"
	"\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	struct sealshm *a = NULL, *b = NULL;\n"
	"	Dl_info info;\n"
	"	int r;\n"
	"\n"
	"	if (argc != 2)\n"
	"		return 2;\n"
	"	if (dladdr(sealshm_version(), &info) && info.dli_fname)\n"
	"		printf(\"lib %s\\n\", info.dli_fname);\n"
	"	printf(\"version %s\\n\", sealshm_version());\n"
	"	r = sealshm_create(argv[1], 4096, NULL, &a);\n"
	"	if (r < 0) {\n"
	"		fprintf(stderr, \"create '%s': %s\\n\", argv[1], strerror(-r));\n"
	"		return 1;\n"
	"	}\n"
	"	strcpy(sealshm_buf(a), \"" PROBE_TEXT "\");\n"
	"	r = sealshm_attach(argv[1], NULL, &b);\n"
	"	if (r < 0) {\n"
	"		fprintf(stderr, \"attach '%s': %s\\n\", argv[1], strerror(-r));\n"
	"		sealshm_unlink(a);\n"
	"		sealshm_close(a);\n"
	"		return 1;\n"
	"	}\n"
	"	printf(\"attached %s %zu: %s\\n\", sealshm_name(b), sealshm_size(b),\n"
	"	       (const char *)sealshm_buf(b));\n"
	"	r = sealshm_unlink(a);\n"
	"	sealshm_close(b);\n"
	"	sealshm_close(a);\n"
	"	return r < 0;\n"
	"}\n";

FIXTURE(install) {
	char top[PATH_MAX];		/* the source tree */
	char build[PATH_MAX];		/* its scratch O */
	char tmp[64];			/* this test's scratch directory */
	char dest[80];			/* TMP/root: DESTDIR */
	char log[80];			/* TMP/out.log: what commands printed */
	char why[256];			/* set: skip with this reason */
	char python[PATH_MAX + 16];	/* " PYTHON='...'" for make, or "" */
	bool sanitize;
	struct trackerd d;
	int fds_before;
};

/* snprintf() for paths and messages: truncation is checked where it
 * matters (ASSERT on the result), not guessed at by the compiler. */
static int pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* Run the shell command @fmt..., its output (after the command line)
 * appended to @log, and wait up to @timeout_ms for it (then SIGKILL).
 * Returns its exit code (128 + signal) or -errno. */
static int run_sh(const char *log, unsigned int timeout_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run_sh(const char *log, unsigned int timeout_ms, const char *fmt, ...)
{
	/* A make running the selftests passes its jobserver and its
	 * command-line variables (O=, KSFT_DIR=) down in MAKEFLAGS: this
	 * make is another build. */
	static const char *const env[] = { "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
					   NULL };
	const struct helper_run_opts opts = {
		.in_path = "/dev/null",
		.out_path = log,
		.env = env,
		.flags = HELPER_RUN_APPEND | HELPER_RUN_ERR_TO_OUT,
		.timeout_ms = timeout_ms,
	};
	char cmd[8192];
	va_list ap;
	int n, fd;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -ENAMETOOLONG;

	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	dprintf(fd, "$ %s\n", cmd);
	close(fd);
	return helper_run("/bin/sh", (const char *const[]){ "-c", cmd, NULL }, &opts, NULL, 0);
}

/* The end of the command log, for a failure message (malloc()ed). */
static char *log_tail(const char *log)
{
	char *s = NULL;
	size_t len;

	if (helper_read_file(log, &s) < 0)
		return strdup("(no log)");
	len = strlen(s);
	if (len > 4000)
		memmove(s, s + len - 4000, 4001);
	return s;
}

/* Paths go into sh -c '...' commands unquoted beyond single quotes. */
static bool shell_safe(const char *s)
{
	return !strchr(s, '\'');
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The source tree: SEALSHM_TEST_TOP, else two levels above this binary
 * (build/selftests/install_test), if a Makefile and the header are there. */
static int find_top(char *buf, size_t len)
{
	char path[PATH_MAX + 32];
	int r = helper_prog_path("SEALSHM_TEST_TOP", "../..", buf, len);

	if (r < 0)
		return r;
	pathf(path, sizeof(path), "%s/Makefile", buf);
	if (access(path, R_OK) < 0)
		return -errno;
	pathf(path, sizeof(path), "%s/lib/include/sealshm.h", buf);
	if (access(path, R_OK) < 0)
		return -errno;
	return 0;
}

static int make_install(struct __test_metadata *_metadata, FIXTURE_DATA(install) *self,
			const char *target)
{
	int rc = run_sh(self->log, MAKE_TIMEOUT_MS,
			"make -j2 --no-print-directory -C '%s' O='%s' PREFIX=/usr "
			"DESTDIR='%s'%s%s %s",
			self->top, self->build, self->dest, self->sanitize ? " SANITIZE=1" : "",
			self->python, target);

	EXPECT_EQ(0, rc) {
		char *tail = log_tail(self->log);

		TH_LOG("make %s failed (%d):\n%s", target, rc, tail);
		free(tail);
	}
	return rc;
}

FIXTURE_SETUP(install)
{
	const char *o = getenv("SEALSHM_TEST_O");
	const char *san = getenv("SEALSHM_TEST_SANITIZE");
	const char *py = getenv("SEALSHM_TEST_PYTHON");
	int r;

	self->why[0] = '\0';
	self->python[0] = '\0';
	self->d.pid = 0;
	self->d.dir[0] = '\0';
	self->sanitize = san && !strcmp(san, "1");
	self->fds_before = helper_count_fds(0);

	r = find_top(self->top, sizeof(self->top));
	if (r < 0) {
		pathf(self->why, sizeof(self->why),
			 "no source tree (set SEALSHM_TEST_TOP): %s", strerror(-r));
		return;
	}
	pathf(self->tmp, sizeof(self->tmp), "/tmp/sealshm-install.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->tmp));
	pathf(self->dest, sizeof(self->dest), "%s/root", self->tmp);
	pathf(self->log, sizeof(self->log), "%s/out.log", self->tmp);
	ASSERT_EQ(0, make_dir(self->dest));
	if (o && *o) {
		ASSERT_LE(0, pathf(self->build, sizeof(self->build), "%s/install-test", o));
	} else {
		/* Run by hand: a build of its own, removed with TMP. */
		pathf(self->build, sizeof(self->build), "%s/build", self->tmp);
	}
	/* The Python the package is built for: the one under test (an empty
	 * one leaves the package out); by hand, the Makefile's default. */
	if (py)
		ASSERT_LE(0, pathf(self->python, sizeof(self->python), " PYTHON='%s'", py));
	ASSERT_TRUE(shell_safe(self->top) && shell_safe(self->build) && shell_safe(self->dest) &&
		    (!py || shell_safe(py))) {
		TH_LOG("a path contains a single quote: %s %s %s", self->top, self->build, py);
	}
	ASSERT_EQ(0, make_install(_metadata, self, "install"));
}

/* Remove @path's tree (nftw, depth first). */
static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

static void rm_tree(const char *path)
{
	if (path[0])
		(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

FIXTURE_TEARDOWN(install)
{
	trackerd_cleanup(&self->d);
	if (self->tmp[0]) {
		if (!_metadata->passed) {
			char *tail = log_tail(self->log);

			TH_LOG("commands and their output (end):\n%s", tail);
			free(tail);
		}
		rm_tree(self->tmp);
	}
	EXPECT_EQ(self->fds_before, helper_count_fds(0));
}

/* The harness runs the test body after a SKIP() in the setup. */
#define SKIP_IF_NO_TREE()						\
	do {								\
		if (self->why[0])					\
			SKIP(return, "%s", self->why);			\
	} while (0)

/* DESTDIR + @rel. */
static const char *in_dest(FIXTURE_DATA(install) *self, const char *rel, char *buf, size_t len)
{
	pathf(buf, len, "%s%s", self->dest, rel);
	return buf;
}

/* The target of symlink @path, "" when it is none. */
static const char *link_target(const char *path, char *buf, size_t len)
{
	ssize_t n = readlink(path, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Permission bits of @path (following symlinks), -errno when missing. */
static int file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	return st.st_mode & 07777;
}

/* Both files exist and hold the same bytes. */
static bool same_content(const char *a, const char *b)
{
	char *x = NULL, *y = NULL;
	bool same;

	if (helper_read_file(a, &x) < 0 || helper_read_file(b, &y) < 0) {
		free(x);
		return false;
	}
	same = !strcmp(x, y);
	free(x);
	free(y);
	return same;
}

/* DT_SONAME of the ELF64 shared object @path into @buf ("" when none).
 * 0 or -errno (-ENOEXEC: not an ELF64 file of this byte order). */
static int elf_soname(const char *path, char *buf, size_t len)
{
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	struct stat st;
	const uint8_t *p;
	int fd, r = -ENOEXEC;

	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(*eh)) {
		close(fd);
		return -ENOEXEC;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	eh = (const Elf64_Ehdr *)p;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > (uint64_t)st.st_size)
		goto out;
	sh = (const Elf64_Shdr *)(p + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *str;

		if (sh[i].sh_type != SHT_DYNAMIC || sh[i].sh_link >= eh->e_shnum)
			continue;
		str = &sh[sh[i].sh_link];
		if (sh[i].sh_offset + sh[i].sh_size > (uint64_t)st.st_size ||
		    str->sh_offset + str->sh_size > (uint64_t)st.st_size)
			break;
		for (uint64_t k = 0; k + sizeof(Elf64_Dyn) <= sh[i].sh_size;
		     k += sizeof(Elf64_Dyn)) {
			const Elf64_Dyn *dyn = (const Elf64_Dyn *)(p + sh[i].sh_offset + k);

			if (dyn->d_tag == DT_NULL)
				break;
			if (dyn->d_tag == DT_SONAME && dyn->d_un.d_val < str->sh_size) {
				pathf(buf, len, "%.*s",
					 (int)strnlen((const char *)p + str->sh_offset +
						      dyn->d_un.d_val,
						      str->sh_size - dyn->d_un.d_val),
					 (const char *)p + str->sh_offset + dyn->d_un.d_val);
				r = 0;
			}
		}
		break;
	}
out:
	munmap((void *)p, (size_t)st.st_size);
	return r;
}

/* What walk_files() collects: names, one per line, as many as fit. */
struct found {
	char *buf;
	size_t len;
	const char *needle;		/* grep_tree()'s */
};

static void found_add(struct found *f, const char *path)
{
	if (strlen(f->buf) + strlen(path) + 2 < f->len)
		strcat(strcat(f->buf, path), "\n");
}

/* @visit every file below @dir that is not a directory (links are not
 * followed); returns the sum of what it returned (1: counted). */
static int walk_files(const char *dir, int (*visit)(const char *, const struct stat *,
						     struct found *), struct found *f)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		pathf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int k = walk_files(path, visit, f);

			n += k > 0 ? k : 0;
		} else {
			n += visit(path, &st, f);
		}
	}
	closedir(d);
	return n;
}

/* Files whose path ends in f->needle. */
static int suffix_one(const char *path, const struct stat *st, struct found *f)
{
	size_t len = strlen(path), n = strlen(f->needle);

	(void)st;
	if (len < n || strcmp(path + len - n, f->needle))
		return 0;
	found_add(f, path);
	return 1;
}

static int count_one(const char *path, const struct stat *st, struct found *f)
{
	(void)st;
	found_add(f, path);
	return 1;
}

/* Files below @dir that are not directories; names of them go to @found
 * (one per line, as many as fit in @len). */
static int count_non_dirs(const char *dir, char *found, size_t len)
{
	struct found f = { .buf = found, .len = len };

	return walk_files(dir, count_one, &f);
}

static int grep_one(const char *path, const struct stat *st, struct found *f)
{
	bool hit;
	void *p;
	int fd;

	if (!S_ISREG(st->st_mode) || st->st_size == 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	p = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 0;
	hit = memmem(p, (size_t)st->st_size, f->needle, strlen(f->needle)) != NULL;
	munmap(p, (size_t)st->st_size);
	if (hit)
		found_add(f, path);
	return hit;
}

/* Regular files below @dir whose bytes contain @needle (names into
 * @found, one per line). */
static int grep_tree(const char *dir, const char *needle, char *found, size_t len)
{
	struct found f = { .buf = found, .len = len, .needle = needle };

	return walk_files(dir, grep_one, &f);
}

/* The library's SONAME chain, the header, sealshm.pc, trackerd, every
 * tools/ program, every man page and unit land under PREFIX=/usr in DESTDIR
 * with the right modes, and no installed file mentions DESTDIR. */
TEST_F_TIMEOUT(install, install_puts_every_file, 170)
{
	char so_major[64], so_real[64], p[PATH_MAX], q[PATH_MAX], t[PATH_MAX], src[PATH_MAX];
	char soname[128], *pc = NULL, found[2048] = "";
	struct dirent *de;
	DIR *d;
	int n;

	SKIP_IF_NO_TREE();
	pathf(so_real, sizeof(so_real), "libsealshm.so.%s", SEALSHM_VERSION);
	pathf(so_major, sizeof(so_major), "libsealshm.so.%.*s",
		 (int)strcspn(SEALSHM_VERSION, "."), SEALSHM_VERSION);

	/* libsealshm.so -> .so.MAJOR -> .so.VERSION, whose SONAME is .so.MAJOR
	 * (what programs record, so the link is what the loader opens). */
	EXPECT_STREQ(so_major, link_target(in_dest(self, "/usr/lib/libsealshm.so", p, sizeof(p)),
					   t, sizeof(t)));
	pathf(q, sizeof(q), "/usr/lib/%s", so_major);
	EXPECT_STREQ(so_real, link_target(in_dest(self, q, p, sizeof(p)), t, sizeof(t)));
	pathf(q, sizeof(q), "/usr/lib/%s", so_real);
	in_dest(self, q, p, sizeof(p));
	EXPECT_EQ(0755, file_mode(p));
	EXPECT_STREQ("", link_target(p, t, sizeof(t)));	/* the real file */
	EXPECT_EQ(0, elf_soname(p, soname, sizeof(soname)));
	EXPECT_STREQ(so_major, soname);
	EXPECT_EQ(0644, file_mode(in_dest(self, "/usr/lib/libsealshm.a", p, sizeof(p))));

	/* The header, byte for byte. */
	pathf(src, sizeof(src), "%s/lib/include/sealshm.h", self->top);
	EXPECT_EQ(0644, file_mode(in_dest(self, "/usr/include/sealshm.h", p, sizeof(p))));
	EXPECT_TRUE(same_content(src, p));

	/* sealshm.pc: PREFIX, not DESTDIR, and this version. */
	in_dest(self, "/usr/lib/pkgconfig/sealshm.pc", p, sizeof(p));
	EXPECT_EQ(0644, file_mode(p));
	ASSERT_EQ(0, helper_read_file(p, &pc));
	EXPECT_NE(NULL, strstr(pc, "\nprefix=/usr\n"));
	pathf(q, sizeof(q), "\nVersion: %s\n", SEALSHM_VERSION);
	EXPECT_NE(NULL, strstr(pc, q)) {
		TH_LOG("sealshm.pc:\n%s", pc);
	}
	free(pc);

	/* trackerd, and it runs. */
	in_dest(self, "/usr/sbin/trackerd", p, sizeof(p));
	EXPECT_EQ(0755, file_mode(p));
	EXPECT_EQ(0, run_sh(self->log, 10000, "'%s' --version | grep -qx 'trackerd %s'", p,
			    SEALSHM_VERSION));

	/* Every tools/NAME/ program as /usr/bin/NAME. */
	pathf(src, sizeof(src), "%s/tools", self->top);
	d = opendir(src);
	ASSERT_NE(NULL, d);
	n = 0;
	while ((de = readdir(d))) {
		struct stat st;

		pathf(q, sizeof(q), "%s/%s", src, de->d_name);
		if (de->d_name[0] == '.' || stat(q, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		pathf(q, sizeof(q), "/usr/bin/%s", de->d_name);
		EXPECT_EQ(0755, file_mode(in_dest(self, q, p, sizeof(p)))) {
			TH_LOG("tool %s not installed as %s", de->d_name, p);
		}
		n++;
	}
	closedir(d);
	EXPECT_LE(1, n);

	/* Every Documentation/man/NAME.S as man/manS/NAME.S, aliases included. */
	pathf(src, sizeof(src), "%s/Documentation/man", self->top);
	d = opendir(src);
	ASSERT_NE(NULL, d);
	n = 0;
	while ((de = readdir(d))) {
		const char *dot = strrchr(de->d_name, '.');
		char from[PATH_MAX + 300];

		if (!dot || strlen(dot) != 2 || !strchr("1378", dot[1]))
			continue;
		pathf(q, sizeof(q), "/usr/share/man/man%c/%s", dot[1], de->d_name);
		pathf(from, sizeof(from), "%s/%s", src, de->d_name);
		EXPECT_EQ(0644, file_mode(in_dest(self, q, p, sizeof(p)))) {
			TH_LOG("man page %s not installed as %s", de->d_name, p);
		}
		EXPECT_TRUE(same_content(from, p));
		n++;
	}
	closedir(d);
	EXPECT_LE(10, n);

	/* The units, system and user, with trackerd's installed path. */
	{
		static const char *const units[] = {
			"/usr/lib/systemd/system/sealshm-trackerd.socket",
			"/usr/lib/systemd/system/sealshm-trackerd.service",
			"/usr/lib/systemd/user/sealshm-trackerd.socket",
			"/usr/lib/systemd/user/sealshm-trackerd.service",
			"/usr/lib/sysusers.d/sealshm.conf",
		};

		for (size_t i = 0; i < ELEMENTSOF(units); i++) {
			char *text = NULL;

			in_dest(self, units[i], p, sizeof(p));
			EXPECT_EQ(0644, file_mode(p)) {
				TH_LOG("%s missing", p);
			}
			if (helper_read_file(p, &text) < 0)
				continue;
			EXPECT_EQ(NULL, strstr(text, "@SBINDIR@"));
			EXPECT_EQ(NULL, strstr(text, "@BINDIR@"));
			if (strstr(units[i], ".service"))
				EXPECT_NE(NULL, strstr(text, "\nExecStart=/usr/sbin/trackerd "));
			if (strstr(units[i], ".socket"))
				EXPECT_NE(NULL, strstr(text, "\nListenSequentialPacket="));
			free(text);
		}
	}

	/* DESTDIR only ever prefixes paths: no installed file contains it. */
	EXPECT_EQ(0, grep_tree(self->dest, self->dest, found, sizeof(found))) {
		TH_LOG("files mentioning %s:\n%s", self->dest, found);
	}
}

/* `cc prog.c $(pkg-config --cflags --libs sealshm)` against the DESTDIR
 * copy builds an outside program; run with that library, against the
 * installed trackerd, it creates and attaches a segment; the installed
 * CLI finds its library through its rpath. */
TEST_F_TIMEOUT(install, pkg_config_builds_outside_program, 170)
{
	char prog[PATH_MAX], src[PATH_MAX], flags_path[PATH_MAX], out_path[PATH_MAX];
	char trackerd[PATH_MAX], libdir[PATH_MAX], want[PATH_MAX + 64], p[PATH_MAX];
	char *flags = NULL, *out = NULL;
	const char *san = self->sanitize ?
		" -fsanitize=address,undefined -fno-omit-frame-pointer" : "";
	int fd, rc;

	SKIP_IF_NO_TREE();
	pathf(src, sizeof(src), "%s/prog.c", self->tmp);
	pathf(prog, sizeof(prog), "%s/prog", self->tmp);
	pathf(flags_path, sizeof(flags_path), "%s/flags", self->tmp);
	pathf(out_path, sizeof(out_path), "%s/prog.out", self->tmp);
	in_dest(self, "/usr/sbin/trackerd", trackerd, sizeof(trackerd));
	in_dest(self, "/usr/lib", libdir, sizeof(libdir));

	fd = open(src, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(probe_src), write(fd, probe_src, strlen(probe_src)));
	close(fd);

	/* pkgconf/pkg-config: the .pc says prefix=/usr; the sysroot puts
	 * DESTDIR in front of its -I and -L, and PKG_CONFIG_LIBDIR keeps any
	 * sealshm.pc installed on this machine out of the search. */
	rc = run_sh(self->log, 10000,
		    "PKG_CONFIG_SYSROOT_DIR='%s' PKG_CONFIG_LIBDIR='%s/pkgconfig' "
		    "pkg-config --cflags --libs sealshm > '%s'",
		    self->dest, libdir, flags_path);
	ASSERT_EQ(0, rc);
	ASSERT_EQ(0, helper_read_file(flags_path, &flags));
	pathf(want, sizeof(want), "-I%s/usr/include", self->dest);
	EXPECT_NE(NULL, strstr(flags, want)) {
		TH_LOG("pkg-config said: %s", flags);
	}
	pathf(want, sizeof(want), "-L%s ", libdir);
	EXPECT_NE(NULL, strstr(flags, want)) {
		TH_LOG("pkg-config said: %s", flags);
	}
	free(flags);

	rc = run_sh(self->log, CC_TIMEOUT_MS,
		    "${CC:-cc} -std=gnu11 -Wall -Wextra -Werror%s -o '%s' '%s' "
		    "$(PKG_CONFIG_SYSROOT_DIR='%s' PKG_CONFIG_LIBDIR='%s/pkgconfig' "
		    "pkg-config --cflags --libs sealshm)",
		    san, prog, src, self->dest, libdir);
	ASSERT_EQ(0, rc);

	/* The installed trackerd, on a private socket. */
	ASSERT_EQ(0, setenv("SEALSHM_TRACKERD", trackerd, 1));
	ASSERT_EQ(0, trackerd_start(&self->d, NULL)) {
		TH_LOG("installed trackerd %s did not start", trackerd);
	}
	ASSERT_EQ(0, setenv("SEALSHM_SOCKET", self->d.sock, 1));
	ASSERT_EQ(0, setenv("SEALSHM_NO_AUTOSTART", "1", 1));

	rc = run_sh(self->log, 30000, "LD_LIBRARY_PATH='%s' '%s' " PROBE_NAME " > '%s'", libdir,
		    prog, out_path);
	EXPECT_EQ(0, rc);
	ASSERT_EQ(0, helper_read_file(out_path, &out));
	pathf(want, sizeof(want), "lib %s/libsealshm.so", libdir);
	EXPECT_NE(NULL, strstr(out, want)) {
		TH_LOG("the program did not run with the installed library:\n%s", out);
	}
	pathf(want, sizeof(want), "version %s\n", SEALSHM_VERSION);
	EXPECT_NE(NULL, strstr(out, want));
	EXPECT_NE(NULL, strstr(out, "attached " PROBE_NAME " 4096: " PROBE_TEXT "\n")) {
		TH_LOG("program output:\n%s", out);
	}
	free(out);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "registered '" PROBE_NAME "'", NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "unlinked '" PROBE_NAME "'", NULL));

	/* The installed CLI: no LD_LIBRARY_PATH, its rpath finds ../lib.  It
	 * lists nothing: the program unlinked what it made.  (Not the test's
	 * own library: its cached connection would count as a leaked fd.) */
	rc = run_sh(self->log, 30000, "'%s' ls > '%s'",
		    in_dest(self, "/usr/bin/sealshm", p, sizeof(p)), out_path);
	EXPECT_EQ(0, rc);
	ASSERT_EQ(0, helper_read_file(out_path, &out));
	EXPECT_EQ(0, strncmp(out, "NAME ", 5));
	EXPECT_EQ(NULL, strstr(out, PROBE_NAME)) {
		TH_LOG("still listed:\n%s", out);
	}
	free(out);
}

/* Why the Python package is not in the install, or NULL. */
static const char *python_missing(FIXTURE_DATA(install) *self, char *buf, size_t len)
{
	static const char *const need[] = { "python/sealshm/__init__.py", "python/ext/module.c" };
	const char *skip = getenv("SEALSHM_TEST_PY_SKIP");
	char p[PATH_MAX + 64];

	if (skip && *skip)
		return skip;
	for (size_t i = 0; i < ELEMENTSOF(need); i++) {
		pathf(p, sizeof(p), "%s/%s", self->top, need[i]);
		if (access(p, F_OK) < 0) {
			pathf(buf, len, "%s is not in the tree yet: no Python package to install",
			      need[i]);
			return buf;
		}
	}
	return NULL;
}

/* The Python probe, run from outside the tree with the staged package on
 * PYTHONPATH: where sealshm comes from and which trackerd the installed
 * library would start; then, given a socket, a segment it creates and a
 * second, independent process reads (track=False: its exit must not
 * unlink the name, CPython's rule). */
static const char py_probe_src[] =
	"import subprocess, sys\n"
	"import sealshm\n"
	"from sealshm import _sealshm, shared_memory\n"
	"print(sealshm.__file__)\n"
	"print(_sealshm.trackerd_path())\n"
	"if len(sys.argv) > 1:\n"
	"    shm = shared_memory.SharedMemory(sys.argv[1], create=True, size=4096)\n"
	"    shm.buf[:4] = b'abcd'\n"
	"    peer = ('import sys; from sealshm import shared_memory as s; '\n"
	"            'm = s.SharedMemory(sys.argv[1], track=False); '\n"
	"            'print(bytes(m.buf[:4]).decode()); m.close()')\n"
	"    sys.stdout.flush()\n"
	"    subprocess.run([sys.executable, '-c', peer, shm.name], check=True, timeout=20)\n"
	"    shm.unlink()\n"
	"    shm.close()\n";

/* The Python package lands in one directory under /usr/lib/python3* (where
 * that Python looks for /usr's packages), without a trackerd: imported
 * from there by the Python under test, from outside the tree, the
 * installed library names /usr/sbin/trackerd; against the installed one,
 * on a private socket, it shares a segment between two of its processes. */
TEST_F_TIMEOUT(install, python_package_imports_from_staged_tree, 170)
{
	char found[1024] = "", pkg[PATH_MAX], site[PATH_MAX], p[PATH_MAX + 32], want[PATH_MAX + 64];
	char src[PATH_MAX], out_path[PATH_MAX], trackerd[PATH_MAX], why[256];
	char preload[PATH_MAX + 64] = "", *out = NULL;
	const char *py = getenv("SEALSHM_TEST_PYTHON"), *missing;
	struct found f = { .buf = found, .len = sizeof(found), .needle = "/sealshm/__init__.py" };
	int fd, rc;

	SKIP_IF_NO_TREE();
	missing = python_missing(self, why, sizeof(why));
	if (missing)
		SKIP(return, "%s", missing);
	if (!py || !*py)
		py = "python3";
	ASSERT_TRUE(shell_safe(py));
	if (self->sanitize) {
		/* The extension is an ASan build, the interpreter is not: the
		 * runtime goes first, and Python's own allocations are not
		 * leaks to report. */
		pathf(p, sizeof(p), "%s/asan-runtime", self->tmp);
		ASSERT_EQ(0, run_sh(self->log, 10000, "${CC:-cc} -print-file-name=libasan.so > '%s'",
				    p));
		ASSERT_EQ(0, helper_read_file(p, &out));
		out[strcspn(out, "\n")] = '\0';
		pathf(preload, sizeof(preload), "LD_PRELOAD='%s' ASAN_OPTIONS=detect_leaks=0 ", out);
		free(out);
		out = NULL;
	}

	/* One package, under /usr/lib/python3... */
	ASSERT_EQ(1, walk_files(self->dest, suffix_one, &f)) {
		TH_LOG("installed sealshm/__init__.py: %s", found[0] ? found : "none");
	}
	found[strcspn(found, "\n")] = '\0';
	pathf(pkg, sizeof(pkg), "%.*s", (int)(strlen(found) - strlen("/__init__.py")), found);
	pathf(site, sizeof(site), "%.*s", (int)(strrchr(pkg, '/') - pkg), pkg);
	ASSERT_TRUE(shell_safe(site));
	in_dest(self, "/usr/lib/python3", p, sizeof(p));
	EXPECT_EQ(0, strncmp(pkg, p, strlen(p))) {
		TH_LOG("the package is in %s, not under %s*", pkg, p);
	}
	EXPECT_EQ(0644, file_mode(found));
	/* ...with no trackerd: the installed library starts SBINDIR's. */
	pathf(p, sizeof(p), "%s/trackerd", pkg);
	EXPECT_EQ(-ENOENT, file_mode(p));

	pathf(src, sizeof(src), "%s/probe.py", self->tmp);
	pathf(out_path, sizeof(out_path), "%s/py.out", self->tmp);
	fd = open(src, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(py_probe_src), write(fd, py_probe_src, strlen(py_probe_src)));
	close(fd);

	/* Imported from there, from outside the tree; no SEALSHM_TRACKERD. */
	rc = run_sh(self->log, 30000,
		    "cd / && env -u SEALSHM_TRACKERD %sPYTHONPATH='%s' PYTHONDONTWRITEBYTECODE=1 "
		    "'%s' '%s' > '%s'", preload, site, py, src, out_path);
	EXPECT_EQ(0, rc);
	ASSERT_EQ(0, helper_read_file(out_path, &out));
	pathf(want, sizeof(want), "%s\n/usr/sbin/trackerd\n", found);
	EXPECT_STREQ(want, out);
	free(out);
	out = NULL;

	/* The installed trackerd, on a private socket, serves the package. */
	in_dest(self, "/usr/sbin/trackerd", trackerd, sizeof(trackerd));
	ASSERT_EQ(0, setenv("SEALSHM_TRACKERD", trackerd, 1));
	ASSERT_EQ(0, trackerd_start(&self->d, NULL)) {
		TH_LOG("installed trackerd %s did not start", trackerd);
	}
	rc = run_sh(self->log, 30000,
		    "cd / && %sSEALSHM_SOCKET='%s' SEALSHM_NO_AUTOSTART=1 PYTHONPATH='%s' "
		    "PYTHONDONTWRITEBYTECODE=1 '%s' '%s' " PY_PROBE_NAME " > '%s'",
		    preload, self->d.sock, site, py, src, out_path);
	EXPECT_EQ(0, rc);
	ASSERT_EQ(0, helper_read_file(out_path, &out));
	pathf(want, sizeof(want), "%s\n%s\nabcd\n", found, trackerd);
	EXPECT_STREQ(want, out);
	free(out);
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "registered '" PY_PROBE_NAME "'", NULL));
	EXPECT_TRUE(trackerd_log_has_line(&self->d, 2000, "unlinked '" PY_PROBE_NAME "'", NULL));
}

/* `make uninstall` with the same variables removes every file install put
 * there: only (empty) directories are left. */
TEST_F_TIMEOUT(install, uninstall_leaves_only_directories, 170)
{
	char found[4096] = "";
	int n;

	SKIP_IF_NO_TREE();
	ASSERT_EQ(0, make_install(_metadata, self, "uninstall"));
	n = count_non_dirs(self->dest, found, sizeof(found));
	EXPECT_EQ(0, n) {
		TH_LOG("left after uninstall:\n%s", found);
	}
}

TEST_HARNESS_MAIN
