# SPDX-License-Identifier: LGPL-2.1-or-later
#
# sealshm top-level Makefile (GNU make).
#
#   make [all]          library (.so .a .pc), trackerd, tools, examples, the Python
#                       package in $(O)/python (PYTHONPATH=$(O)/python python3 -c 'import sealshm')
#   make check          all + selftests (Python tests included) + header compile test
#                       + ABI check + man pages
#   make check-python   only the Python package's tests, its install and pip tests
#   make demo           the two-process Fibonacci example, trackerd started on demand
#   make bench          build bench/*.c and run each, then bench/*.py (not part of check)
#   make fuzz           libFuzzer targets (clang), FUZZ_SECONDS=60 in total
#   make install        PREFIX=/usr/local DESTDIR= (BINDIR SBINDIR LIBDIR ... derive from PREFIX;
#                       PYTHONDIR: where $(PYTHON) finds packages installed under PREFIX)
#   make uninstall | clean | deps | kselftest | check-man | check-abi | check-header
#
# Variables: CC CXX CFLAGS CPPFLAGS LDFLAGS are the user's; V=1 shows commands;
# O=DIR puts every output under DIR (default build/); SANITIZE=1 builds with
# ASan + UBSan (use another O=, e.g. O=build-san); WERROR=0 lets warnings
# through (`make check` always treats them as errors).  PYTHON=/path builds
# and tests the Python package for that interpreter (default: python3 on
# PATH); PYTHON= (empty) leaves the package out.

VERSION		:= 0.1.0
version_words	:= $(subst ., ,$(VERSION))
MAJOR		:= $(word 1,$(version_words))
MINOR		:= $(word 2,$(version_words))

O		?= build
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig
# systemd units and sysusers.d: under PREFIX like the rest (distributions
# pass /usr/lib/systemd/system, or pkg-config --variable=systemdsystemunitdir
# systemd).
SYSTEMDSYSTEMUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSTEMDUSERUNITDIR ?= $(PREFIX)/lib/systemd/user
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
# The Python package: where $(PYTHON) finds packages installed under PREFIX
# (scripts/pyconfig.py; e.g. /usr/local/lib/python3.11/dist-packages for
# Debian's python3).  Asked once, and only when used.
PYTHONDIR	?= $(eval PYTHONDIR := $(shell $(PYTHON) scripts/pyconfig.py platlib '$(PREFIX)'))$(PYTHONDIR)

# CC, CXX and AR keep make's defaults (cc, g++, ar) unless the user sets them.
CFLAGS		?= -g -O2
PKG_CONFIG	?= pkg-config
INSTALL		?= install

# V=1, SANITIZE=1 and WERROR=0 (shared with selftests/Makefile).
include scripts/flags.mk
# PYTHON and what it says about itself (PY_*), shared with selftests/Makefile.
include scripts/python.mk

# Project flags; the user's CPPFLAGS/CFLAGS come last so they can override.
BASE_CFLAGS	:= -std=gnu11 $(WARN_CFLAGS) -D_GNU_SOURCE -fvisibility=hidden \
		   -DSEALSHM_VERSION=\"$(VERSION)\" \
		   -DSEALSHM_TRACKERD_PATH=\"$(SBINDIR)/trackerd\" \
		   $(SAN_FLAGS)
ALL_CFLAGS	 = $(BASE_CFLAGS) -Ilib -Ilib/include $(CPPFLAGS) $(CFLAGS)
# tools/ and examples/ see only the public header.
PUB_CFLAGS	 = $(BASE_CFLAGS) -Ilib/include $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS	 = $(SAN_FLAGS) $(LDFLAGS)
DEPFLAGS	 = -MMD -MP

# trackerd's libraries found with pkg-config: libseccomp and libcap (sandbox.c).
# Sanitizer builds define SEALSHM_SANITIZE: trackerd then defaults to
# --seccomp=log, as the sanitizer runtimes make syscalls no allow-list predicts.
TRACKERD_PKGS	:= libseccomp libcap
TRACKERD_CFLAGS	:= $(if $(TRACKERD_PKGS),$(shell $(PKG_CONFIG) --cflags $(TRACKERD_PKGS) 2>/dev/null)) \
		   $(if $(SAN_FLAGS),-DSEALSHM_SANITIZE)
TRACKERD_LIBS	:= $(if $(TRACKERD_PKGS),$(shell $(PKG_CONFIG) --libs $(TRACKERD_PKGS) 2>/dev/null))

# --- sources ----------------------------------------------------------------
LIB_SRCS	:= $(addprefix lib/,arena.c array.c autostart.c barrier.c cond.c conn.c event.c fastpath.c fdpass.c \
			holder.c launch.c locate.c lock.c manager.c memfd.c name.c object.c objects.c \
			peer.c pidfd.c posix.c query.c queue.c seal.c segment.c reserve.c sem.c session.c \
			siphash.c slist.c testhook.c version.c)
TRACKERD_SRCS	:= $(addprefix trackerd/,client.c daemon.c holder.c index.c listen.c log.c loop.c \
			main.c manager.c notify.c options.c registry.c request.c reserve.c sandbox.c \
			session.c)
# One program per tools/<name>/: its sources are <name>_SRCS.
TOOLS		:= sealshm shmtop
# tools/*.c: what the tools share (each links the objects it uses); every
# directory tools/NAME/ is a program.
sealshm_SRCS	:= tools/sealshm/main.c tools/escape.c tools/objects.c
shmtop_SRCS	:= $(addprefix tools/shmtop/,batch.c collect.c main.c mappers.c screen.c) \
		   tools/escape.c tools/objects.c
EXAMPLES	:= fib_owner fib_peer manager_workers slist_from_python slist_share
BENCHES		:= cpython_bench scale_bench segment_bench shmtop_bench slist_bench sync_bench \
		   throughput_bench tracking_bench value_bench
FUZZ_NAMES	:= parsers_fuzz slist_fuzz trackerd_fuzz

# --- outputs ----------------------------------------------------------------
LIB_SOBJS	:= $(LIB_SRCS:lib/%.c=$(O)/lib/sharedobjs/%.o)
LIB_AOBJS	:= $(LIB_SRCS:lib/%.c=$(O)/lib/staticobjs/%.o)
LIB_MAP		:= lib/libsealshm.map
# The newest node of the symbol map must be the version being built
# (one node per minor release, released nodes frozen): checked as the
# Makefile is read, so no target builds against a map out of step.
MAP_NEWEST	:= $(shell sed -n 's/^[[:space:]]*\(SEALSHM_[0-9][0-9.]*\)[[:space:]]*{.*/\1/p' \
			$(LIB_MAP) | tail -n 1)
ifneq ($(MAP_NEWEST),SEALSHM_$(MAJOR).$(MINOR).0)
$(error $(LIB_MAP): newest node is '$(MAP_NEWEST)', expected SEALSHM_$(MAJOR).$(MINOR).0 \
	for version $(VERSION))
endif
LIB_SO_REAL	:= $(O)/lib/libsealshm.so.$(VERSION)
LIB_SO_MAJOR	:= $(O)/lib/libsealshm.so.$(MAJOR)
LIB_SO		:= $(O)/lib/libsealshm.so
LIB_A		:= $(O)/lib/libsealshm.a
LIB_PC		:= $(O)/lib/sealshm.pc

TRACKERD_OBJS	:= $(TRACKERD_SRCS:%.c=$(O)/%.o)
TRACKERD	:= $(if $(TRACKERD_SRCS),$(O)/trackerd/trackerd)

# Each tool is built as $(O)/tools/<name>.
TOOL_BINS	:= $(TOOLS:%=$(O)/tools/%)
# Extra libraries per tool, e.g. shmtop_LDLIBS.
sealshm_LDLIBS	:=
shmtop_LDLIBS	:= $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null || echo -lncursesw)

EXAMPLE_BINS	:= $(EXAMPLES:%=$(O)/examples/%)
# Benchmarks use the public API and the shared library, like examples.
BENCH_BINS	:= $(BENCHES:%=$(O)/bench/%)

# The harness headers; another build may share one copy (KSFT_DIR=ABSDIR).
KSFT_DIR	?= $(O)/kselftest
KSFT_HDRS	:= $(KSFT_DIR)/kselftest_harness.h $(KSFT_DIR)/kselftest.h

# $ORIGIN-relative rpath: build/tools/x and bin/x both find ../lib.
RPATH		:= -Wl,-rpath,'$$ORIGIN/../lib'

MANPAGES	:= $(wildcard $(foreach s,1 3 7 8,Documentation/man/*.$(s)))

# systemd units, the same names for the system manager (from
# trackerd/systemd/) and for systemctl --user (from trackerd/systemd/user/).
UNITS		:= sealshm-trackerd.service sealshm-trackerd.socket
SYSTEM_UNITS	:= $(UNITS:%=$(O)/systemd/system/%)
USER_UNITS	:= $(UNITS:%=$(O)/systemd/user/%)
SYSUSERS	:= trackerd/systemd/sealshm.sysusers

.PHONY: all lib trackerd tools examples units python check check-header check-abi check-man \
	check-python demo bench fuzz install uninstall clean deps kselftest FORCE
.DEFAULT_GOAL := all

all: lib trackerd tools examples units python

lib: $(LIB_SO) $(LIB_SO_MAJOR) $(LIB_A) $(LIB_PC)
trackerd: $(TRACKERD)
tools: $(TOOL_BINS)
examples: $(EXAMPLE_BINS)
units: $(SYSTEM_UNITS) $(USER_UNITS)

# Rebuild everything when flags, PREFIX (compiled-in trackerd path), the
# compiler or the Python the package is built for change; the stamp is
# rewritten only when its content differs.
FLAGS_STAMP	:= $(O)/.flags
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '$(subst ','\'',$(CC) $(CXX) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(TRACKERD_CFLAGS) $(TRACKERD_LIBS) $(PY_INFO))' > $@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

# --- library ------------------------------------------------------------------
$(O)/lib/sharedobjs/%.o: lib/%.c $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC $(DEPFLAGS) -c $< -o $@

$(O)/lib/staticobjs/%.o: lib/%.c $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB_SO_REAL): $(LIB_SOBJS) $(LIB_MAP)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared $(ALL_CFLAGS) $(ALL_LDFLAGS) -Wl,-soname,libsealshm.so.$(MAJOR) \
		-Wl,--version-script=$(LIB_MAP) -Wl,--no-undefined \
		$(LIB_SOBJS) -lpthread -o $@

$(LIB_SO_MAJOR): $(LIB_SO_REAL)
	$(Q)ln -sf $(notdir $<) $@

$(LIB_SO): $(LIB_SO_MAJOR)
	$(Q)ln -sf $(notdir $<) $@

$(LIB_A): $(LIB_AOBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# libdir and includedir relative to ${prefix} when they are under it.
pc_rel		= $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
$(LIB_PC): lib/sealshm.pc.in $(FLAGS_STAMP)
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' \
		-e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|g' \
		-e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|g' \
		-e 's|@VERSION@|$(VERSION)|g' $< > $@

# --- systemd units --------------------------------------------------------------
# $(O)/systemd/system/NAME comes from trackerd/systemd/NAME, .../user/NAME from
# trackerd/systemd/user/NAME; a NAME.in beside it wins and gets the install
# paths.  The flags stamp changes with SBINDIR (compiled into the library too).
unit_in		= $(patsubst $(O)/systemd/system/%,trackerd/systemd/%, \
			$(patsubst $(O)/systemd/user/%,trackerd/systemd/user/%,$(1)))
unit_src	= $(firstword $(wildcard $(call unit_in,$(1)).in) $(call unit_in,$(1)))
.SECONDEXPANSION:
$(SYSTEM_UNITS) $(USER_UNITS): $$(call unit_src,$$@) $(FLAGS_STAMP)
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' $< > $@

# --- trackerd -----------------------------------------------------------------
$(O)/trackerd/%.o: trackerd/%.c $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(TRACKERD_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(O)/trackerd/trackerd: $(TRACKERD_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(TRACKERD_OBJS) $(LIB_A) $(TRACKERD_LIBS) -lpthread -o $@

# --- tools and examples (public API, shared library) --------------------------
$(O)/tools/objs/%.o: tools/%.c $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(PUB_CFLAGS) $(DEPFLAGS) -c $< -o $@

define tool_rule
$(1)_OBJS := $$(patsubst tools/%.c,$$(O)/tools/objs/%.o,$$($(1)_SRCS))
$$(O)/tools/$(1): $$($(1)_OBJS) $$(LIB_SO)
	$$(call msg,LD,$$@)
	$$(Q)$$(CC) $$(PUB_CFLAGS) $$(ALL_LDFLAGS) $$(RPATH) $$($(1)_OBJS) \
		-L$$(O)/lib -lsealshm $$($(1)_LDLIBS) -o $$@
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

$(O)/examples/%: examples/%.c $(LIB_SO) $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(PUB_CFLAGS) $(ALL_LDFLAGS) $(DEPFLAGS) $(RPATH) $< -L$(O)/lib -lsealshm -o $@

$(O)/bench/%: bench/%.c $(LIB_SO) $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(PUB_CFLAGS) $(ALL_LDFLAGS) $(DEPFLAGS) $(RPATH) $< -L$(O)/lib -lsealshm -o $@

# --- Python package -------------------------------------------------------------
# $(O)/python/sealshm is the package, importable as it is
# (PYTHONPATH=$(O)/python): python/sealshm/'s .py and .pyi files and
# py.typed, copied; the extension sealshm._sealshm, python/ext/ linked with
# the library's PIC objects (no libsealshm.so needed at run time; it
# exports PyInit__sealshm alone, python/_sealshm.map); and a link to the
# trackerd built beside it, which the library starts before the installed
# one (lib/launch.c).  Built for $(PYTHON) (scripts/python.mk), with the
# project's flags; Python's headers are system headers (-isystem).
PY_DIR		:= $(O)/python/sealshm
PY_FILES	:= $(patsubst python/sealshm/%,$(PY_DIR)/%,$(wildcard python/sealshm/*.py \
			python/sealshm/*.pyi python/sealshm/py.typed))
PY_EXT_SRCS	:= $(addprefix python/ext/,module.c segment.c slist.c manager.c registry.c sync.c \
			array.c)
PY_EXT_OBJS	:= $(PY_EXT_SRCS:python/ext/%.c=$(O)/python/ext/%.o)
PY_EXT		:= $(PY_DIR)/_sealshm$(PY_EXT_SUFFIX)
PY_EXT_MAP	:= python/_sealshm.map
PY_TRACKERD	:= $(PY_DIR)/trackerd
# Before 3.9, PyMODINIT_FUNC has no visibility("default") and
# -fvisibility=hidden would hide the init function; pyport.h keeps one
# defined before it.
PY_CFLAGS	 = $(ALL_CFLAGS) -fPIC -isystem $(PY_INCLUDE) \
		   $(if $(filter-out $(PY_INCLUDE),$(PY_PLATINCLUDE)),-isystem $(PY_PLATINCLUDE)) \
		   $(if $(filter 3.6 3.7 3.8,$(PY_VERSION)),\
			'-DPyMODINIT_FUNC=__attribute__((visibility("default"))) PyObject *')
# Checked once per interpreter: it runs, and it has its C headers.
PY_CHECKED	:= $(O)/python/.checked

ifeq ($(PY_SKIP),)
python: $(PY_FILES) $(PY_EXT) $(PY_TRACKERD)
else
python:
	@echo '  SKIP     python package: $(PY_SKIP)'
endif

$(PY_CHECKED): $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(Q)if [ -z '$(PY_EXE)' ]; then \
		echo "PYTHON=$(PYTHON) does not run: set PYTHON to a Python 3 interpreter," \
			"or PYTHON= to leave the Python package out" >&2; exit 1; \
	elif [ '$(PY_HEADERS)' != 1 ]; then \
		echo "$(PY_EXE) (Python $(PY_VERSION)) has no C headers: $(PY_INCLUDE)/Python.h" \
			"is missing.  Install them (Debian: python3-dev for /usr/bin/python3;" \
			"'make deps' does), pick another interpreter with PYTHON=/path, or leave" \
			"the Python package out with PYTHON=" >&2; exit 1; \
	fi
	$(Q)touch $@

$(PY_FILES): $(PY_DIR)/%: python/sealshm/%
	$(call msg,CP,$@)
	@mkdir -p $(@D)
	$(Q)cp $< $@

$(O)/python/ext/%.o: python/ext/%.c $(FLAGS_STAMP) $(PY_CHECKED)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(PY_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(PY_EXT): $(PY_EXT_OBJS) $(LIB_SOBJS) $(PY_EXT_MAP)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -shared $(ALL_CFLAGS) $(ALL_LDFLAGS) -Wl,--version-script=$(PY_EXT_MAP) \
		$(PY_EXT_OBJS) $(LIB_SOBJS) -lpthread -o $@

# Relative: the build tree may move.
$(PY_TRACKERD): | $(TRACKERD)
	$(call msg,LN,$@)
	@mkdir -p $(@D)
	$(Q)ln -sfn ../../trackerd/trackerd $@

# Header dependencies written by -MMD -MP.
DEP_FILES	:= $(patsubst %.o,%.d,$(LIB_SOBJS) $(LIB_AOBJS) $(TRACKERD_OBJS) \
			$(foreach t,$(TOOLS),$($(t)_OBJS)) $(PY_EXT_OBJS)) \
		   $(EXAMPLE_BINS:=.d) $(BENCH_BINS:=.d)
-include $(DEP_FILES)

# --- helpers ------------------------------------------------------------------
deps:
	$(Q)scripts/deps.sh

kselftest: $(KSFT_HDRS)

$(KSFT_HDRS) &:
	$(call msg,GET,$(KSFT_DIR))
	$(Q)scripts/kselftest.sh $(KSFT_DIR)

# --- check --------------------------------------------------------------------
# The selftests run last, so the runner's "N passed, N failed, N skipped" is
# the last line on stdout; earlier failures still make the exit status non-zero.
# Warnings are errors here whatever WERROR says: what CI runs.
check: deps
	$(Q)$(MAKE) --no-print-directory WERROR=1 all kselftest
	$(Q)rc=0; \
	$(MAKE) --no-print-directory WERROR=1 check-header || rc=1; \
	$(MAKE) --no-print-directory WERROR=1 check-abi || rc=1; \
	$(MAKE) --no-print-directory WERROR=1 check-man || rc=1; \
	$(MAKE) --no-print-directory -C selftests WERROR=1 O=$(abspath $(O)) \
		KSFT_DIR=$(abspath $(KSFT_DIR)) run_tests || rc=1; \
	exit $$rc

# The Python package's tests alone (its modules, pip_test, install_test),
# with the runner's closing "N passed, N failed, N skipped": for another
# interpreter, e.g. make check-python PYTHON=/usr/bin/python3 O=build-py3.
check-python: deps
	$(Q)$(MAKE) --no-print-directory WERROR=1 lib trackerd python kselftest
	$(Q)$(MAKE) --no-print-directory -C selftests WERROR=1 O=$(abspath $(O)) \
		KSFT_DIR=$(abspath $(KSFT_DIR)) run_python

# sealshm.h alone must compile as C99 and as C++11.
check-header:
	$(call msg,HDRTEST,lib/include/sealshm.h)
	$(Q)$(CC) -std=c99 -Wall -Wextra -Werror -fsyntax-only -x c lib/include/sealshm.h
	$(Q)$(CXX) -std=c++11 -Wall -Wextra -Werror -fsyntax-only -x c++ lib/include/sealshm.h

# The exported symbols must be exactly the map's global symbols.
map_globals	= perl -0pe 's{/\*.*?\*/}{}gs; s{\#[^\n]*}{}g' $(LIB_MAP) | tr -s ' \t;{}' '\n\n\n\n\n' | \
		  awk '/^global:$$/ { g = 1; next } /^local:$$/ || /^SEALSHM_/ { g = 0; next } \
		       g && NF { print }' | sort -u
so_exports	= nm -D --defined-only $(LIB_SO_REAL) | awk '$$2 != "A" { sub(/@.*/, "", $$3); print $$3 }' | sort -u

check-abi: $(LIB_SO_REAL)
	$(call msg,ABITEST,$(LIB_SO_REAL))
	$(Q)$(map_globals) > $(O)/lib/abi.map.txt
	$(Q)$(so_exports) > $(O)/lib/abi.so.txt
	$(Q)if ! diff -u --label '$(LIB_MAP) (global)' --label '$(LIB_SO_REAL) (nm -D)' \
		$(O)/lib/abi.map.txt $(O)/lib/abi.so.txt; then \
		echo "ABI check failed: exported symbols differ from $(LIB_MAP)" >&2; exit 1; \
	fi

# Every man page renders with groff -man -ww -z without a word of output
# (warnings included).  Alias pages (".so man3/NAME.3") resolve through a
# man1..man8 view of Documentation/man, as in an installed tree.  A page
# with a table must say so on its first line ('\" t), as man(1) reads it,
# and is then run through tbl.  trackerd(8)'s SECURITY table lists exactly
# the syscalls of trackerd/sandbox.c's allow-list.
MANCHECK_DIR	:= $(O)/mancheck
check-man:
	$(call msg,MANTEST,Documentation/man)
	$(Q)command -v groff >/dev/null || \
		{ echo "check-man: groff is missing (make deps)" >&2; exit 1; }
	$(Q)mkdir -p $(MANCHECK_DIR) && for s in 1 3 7 8; do \
		ln -sfn $(abspath Documentation/man) $(MANCHECK_DIR)/man$$s; done
	$(Q)rc=0; for p in $(MANPAGES); do \
		tbl=; \
		if head -n 1 "$$p" | grep -q "^'\\\\\" t"; then tbl=-t; \
		elif grep -q '^\.TS' "$$p"; then \
			echo "$$p: has a table (.TS) but no '\\\" t first line" >&2; rc=1; fi; \
		out=$$(groff $$tbl -I $(MANCHECK_DIR) -man -ww -z "$$p" 2>&1); \
		if [ -n "$$out" ]; then printf '%s\n' "$$out" >&2; rc=1; fi; \
	done; exit $$rc
	$(Q)sed -n '/allowed_syscalls\[\] = {/,/^};/s/^[[:space:]]*"\([a-z0-9_]*\)",.*/\1/p' \
		trackerd/sandbox.c | sort > $(MANCHECK_DIR)/syscalls.sandbox
	$(Q)sed -n '/^\.TS/,/^\.TE/p' Documentation/man/trackerd.8 | \
		awk -F '\t' 'NF > 1 { print $$1 }' | sort > $(MANCHECK_DIR)/syscalls.man
	$(Q)diff -u --label 'trackerd/sandbox.c (allowed)' --label 'trackerd.8 (SECURITY)' \
		$(MANCHECK_DIR)/syscalls.sandbox $(MANCHECK_DIR)/syscalls.man || \
		{ echo "check-man: trackerd.8 and trackerd/sandbox.c list other syscalls" >&2; \
		  exit 1; }

# --- demo ---------------------------------------------------------------------
# No SEALSHM_SOCKET: the library finds the per-user socket and starts
# trackerd on demand; SEALSHM_TRACKERD points it at the one just built.
DEMO_ENV	= env -u SEALSHM_SOCKET -u SEALSHM_NO_AUTOSTART \
		  SEALSHM_TRACKERD=$(abspath $(O)/trackerd/trackerd)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	@echo '--- $(O)/examples/fib_owner'
	$(Q)$(DEMO_ENV) $(O)/examples/fib_owner
	@echo '--- $(O)/tools/sealshm ls'
	$(Q)out=$$($(DEMO_ENV) $(O)/tools/sealshm ls) || exit 1; \
	printf '%s\n' "$$out"; \
	if printf '%s\n' "$$out" | grep -q '^sealshm-demo '; then \
		echo "demo: 'sealshm-demo' is still listed after unlink" >&2; exit 1; \
	fi

# --- bench --------------------------------------------------------------------
# Each benchmark starts its own trackerd (the one just built) on a private
# socket; figures go to stdout (bench/bench.h: shared helpers).  BENCH=NAME...
# runs only those (e.g. BENCH=segment_bench); BENCH_ARGS are passed to each.
# bench/NAME.py (PY_BENCHES) run with $(PYTHON) and the package just built;
# BENCH=NAME runs both bench/NAME.c and bench/NAME.py where both exist.
PY_BENCHES	:= python_bench sync_bench value_bench
BENCH_C		 = $(if $(BENCH),$(addprefix $(O)/bench/,$(filter-out \
			$(filter-out $(BENCHES),$(PY_BENCHES)),$(BENCH))),$(BENCH_BINS))
BENCH_PY	 = $(if $(PY_SKIP),,$(if $(BENCH),$(filter $(PY_BENCHES),$(BENCH)),$(PY_BENCHES)))
bench: deps
	$(Q)$(MAKE) --no-print-directory lib trackerd tools $(BENCH_BINS)
	$(Q)for b in $(BENCH_C); do \
		echo "--- $$b $(BENCH_ARGS)"; start=$$(date +%s); \
		SEALSHM_TRACKERD=$(abspath $(O)/trackerd/trackerd) $$b $(BENCH_ARGS) || exit 1; \
		echo "--- $$b: $$(( $$(date +%s) - start )) s"; \
	done
	$(if $(BENCH_PY),\
	$(Q)$(MAKE) --no-print-directory python && \
		for b in $(BENCH_PY); do \
			echo "--- bench/$$b.py ($(PYTHON))"; \
			env -u SEALSHM_SOCKET -u SEALSHM_TRACKERD PYTHONPATH=$(abspath $(O)/python) \
			$(PYTHON) bench/$$b.py || exit 1; \
		done)

# --- fuzz ---------------------------------------------------------------------
# libFuzzer targets selftests/fuzz/*_fuzz.c, built with clang (FUZZ_CC) and
# -fsanitize=fuzzer,address,undefined against lib/ compiled the same way,
# each run from its seed corpus selftests/fuzz/corpus/<target>/ (read only;
# what it learns goes to $(O)/fuzz/corpus/).  FUZZ_SECONDS (default 60) is
# the total, split evenly across the targets.  A crash leaves its input in
# $(O)/fuzz/artifacts/ and fails the target.
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	 = -std=gnu11 -g -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -fvisibility=hidden \
		   -DSEALSHM_VERSION=\"$(VERSION)\" -DSEALSHM_TRACKERD_PATH=\"$(SBINDIR)/trackerd\" \
		   -Ilib -Ilib/include $(FUZZ_SAN)
FUZZ_TARGETS	:= $(FUZZ_NAMES:%=$(O)/fuzz/%)
FUZZ_LIB_OBJS	:= $(LIB_SRCS:lib/%.c=$(O)/fuzz/lib/%.o)
# trackerd's request path without main(), its listening socket, its log, its
# sandbox and its service-manager notifications: trackerd_fuzz.c stands in
# for the listener and the log.
FUZZ_TRACKERD_OBJS := $(patsubst trackerd/%.c,$(O)/fuzz/trackerd/%.o,$(filter-out \
		   trackerd/main.c trackerd/listen.c trackerd/log.c trackerd/sandbox.c \
		   trackerd/notify.c trackerd/options.c trackerd/daemon.c trackerd/manager.c,\
		   $(TRACKERD_SRCS)))
# Archives: a target links only the members it needs.
FUZZ_ARCHIVES	:= $(O)/fuzz/trackerd.a $(O)/fuzz/lib.a
.SECONDARY: $(FUZZ_LIB_OBJS) $(FUZZ_TRACKERD_OBJS)

$(O)/fuzz/lib/%.o: lib/%.c $(FLAGS_STAMP)
	$(call msg,FUZZCC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

$(O)/fuzz/trackerd/%.o: trackerd/%.c $(FLAGS_STAMP)
	$(call msg,FUZZCC,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(TRACKERD_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) \
		-c $< -o $@

$(O)/fuzz/lib.a: $(FUZZ_LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/fuzz/trackerd.a: $(FUZZ_TRACKERD_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/fuzz/%: selftests/fuzz/%.c $(FUZZ_ARCHIVES)
	$(call msg,FUZZLD,$@)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(DEPFLAGS) $< $(FUZZ_ARCHIVES) \
		-lpthread -o $@

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_TRACKERD_OBJS:.o=.d) $(FUZZ_TARGETS:=.d)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory $(FUZZ_TARGETS)
	$(Q)n=$(words $(FUZZ_TARGETS)); secs=$$(( $(FUZZ_SECONDS) / (n > 0 ? n : 1) )); \
	[ "$$secs" -ge 1 ] || secs=1; rc=0; \
	for t in $(FUZZ_TARGETS); do \
		name=$${t##*/}; name=$${name%_fuzz}; \
		mkdir -p $(O)/fuzz/corpus/$$name $(O)/fuzz/artifacts; \
		echo "--- fuzz $$name: $$secs s"; \
		$$t -max_total_time=$$secs -print_final_stats=1 \
			-artifact_prefix=$(O)/fuzz/artifacts/$$name- \
			$(O)/fuzz/corpus/$$name selftests/fuzz/corpus/$$name \
			> $(O)/fuzz/$$name.log 2>&1; \
		r=$$?; tail -n 25 $(O)/fuzz/$$name.log | grep -E '^(Done|stat::|==|SUMMARY)' || true; \
		if [ $$r -ne 0 ]; then echo "--- fuzz $$name: FAILED (exit $$r, log $(O)/fuzz/$$name.log)"; rc=1; \
		else echo "--- fuzz $$name: ok"; fi; \
	done; exit $$rc

# --- install ------------------------------------------------------------------
# Every tools/* program, every man page (alias pages are one-line .so files),
# every unit; uninstall removes exactly these files and leaves directories.
# The Python package goes to PYTHONDIR/sealshm without a trackerd (the
# installed library starts SBINDIR's), byte-compiled as pip and Debian do;
# uninstall removes it with what Python compiled from it, and its directory
# when that is empty (an empty one would import as a namespace package).
PY_INST_DIR	 = $(DESTDIR)$(PYTHONDIR)/sealshm
PY_INSTALLED	 = $(if $(PY_SKIP),,$(addprefix $(PY_INST_DIR)/,$(notdir $(PY_FILES) $(PY_EXT))))
PY_MODULES	:= $(basename $(notdir $(filter %.py,$(PY_FILES))))
man_dest	= $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(1)))
INSTALLED	 = $(addprefix $(DESTDIR)$(LIBDIR)/,libsealshm.so.$(VERSION) \
			libsealshm.so.$(MAJOR) libsealshm.so libsealshm.a) \
		   $(DESTDIR)$(INCLUDEDIR)/sealshm.h $(DESTDIR)$(PKGCONFIGDIR)/sealshm.pc \
		   $(if $(TRACKERD),$(DESTDIR)$(SBINDIR)/trackerd) \
		   $(addprefix $(DESTDIR)$(BINDIR)/,$(TOOLS)) \
		   $(foreach p,$(MANPAGES),$(call man_dest,$(p))/$(notdir $(p))) \
		   $(addprefix $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/,$(notdir $(SYSTEM_UNITS))) \
		   $(addprefix $(DESTDIR)$(SYSTEMDUSERUNITDIR)/,$(notdir $(USER_UNITS))) \
		   $(patsubst %.sysusers,$(DESTDIR)$(SYSUSERSDIR)/%.conf,$(notdir $(SYSUSERS))) \
		   $(PY_INSTALLED)

install: all
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 755 $(LIB_SO_REAL) $(DESTDIR)$(LIBDIR)/
	ln -sf libsealshm.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsealshm.so.$(MAJOR)
	ln -sf libsealshm.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libsealshm.so
	$(INSTALL) -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 644 lib/include/sealshm.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 644 $(LIB_PC) $(DESTDIR)$(PKGCONFIGDIR)/
	$(if $(TRACKERD),$(INSTALL) -m 755 $(TRACKERD) $(DESTDIR)$(SBINDIR)/)
	$(if $(TOOL_BINS),$(INSTALL) -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/)
	$(foreach s,$(sort $(suffix $(MANPAGES))),$(INSTALL) -d $(call man_dest,$(s)) && \
		$(INSTALL) -m 644 $(filter %$(s),$(MANPAGES)) $(call man_dest,$(s))/ &&) true
	$(if $(SYSTEM_UNITS),$(INSTALL) -d $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR) && \
		$(INSTALL) -m 644 $(SYSTEM_UNITS) $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/)
	$(if $(USER_UNITS),$(INSTALL) -d $(DESTDIR)$(SYSTEMDUSERUNITDIR) && \
		$(INSTALL) -m 644 $(USER_UNITS) $(DESTDIR)$(SYSTEMDUSERUNITDIR)/)
	$(foreach f,$(SYSUSERS),$(INSTALL) -d $(DESTDIR)$(SYSUSERSDIR) && \
		$(INSTALL) -m 644 $(f) \
			$(DESTDIR)$(SYSUSERSDIR)/$(basename $(notdir $(f))).conf &&) true
	$(if $(PY_INSTALLED),$(INSTALL) -d $(PY_INST_DIR) && \
		$(INSTALL) -m 644 $(PY_FILES) $(PY_INST_DIR)/ && \
		$(INSTALL) -m 755 $(PY_EXT) $(PY_INST_DIR)/ && \
		$(PY_EXE) -m compileall -q -d $(PYTHONDIR)/sealshm $(PY_INST_DIR) >/dev/null)

uninstall:
	rm -f $(INSTALLED)
	$(if $(PY_INSTALLED),rm -f $(foreach m,$(PY_MODULES),$(PY_INST_DIR)/__pycache__/$(m).*.pyc) && \
		rmdir --ignore-fail-on-non-empty $(PY_INST_DIR)/__pycache__ $(PY_INST_DIR) \
		2>/dev/null; true)

clean:
	rm -rf -- $(O) build-san
