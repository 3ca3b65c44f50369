# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python the package is built and tested for, read the same way by the
# top-level Makefile and selftests/Makefile; included, never run on its own.
#
#   PYTHON=python3   the interpreter (default: python3 on PATH; PYTHON=/path
#                    picks another, PYTHON= leaves the Python package out)
#
# It defines, from that interpreter (scripts/pyconfig.py, asked once):
#   PY_EXE PY_VERSION PY_INCLUDE PY_PLATINCLUDE PY_EXT_SUFFIX PY_HEADERS (1/0)
#   PY_INFO   all of them on one line (for a rebuild stamp)
#   PY_SKIP   why the package is not built, empty when it is: PYTHON is
#             empty, or python/ext/module.c is not in the tree.  Errors
#             that the user must fix (no such interpreter, no C headers)
#             are not reasons to skip: building the package reports them.

PY_TOP		:= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)

PYTHON		?= python3

PY_INFO		:= $(if $(strip $(PYTHON)),$(shell $(PYTHON) $(PY_TOP)/scripts/pyconfig.py build \
			2>/dev/null))
PY_EXE		:= $(word 1,$(PY_INFO))
PY_VERSION	:= $(word 2,$(PY_INFO))
PY_INCLUDE	:= $(word 3,$(PY_INFO))
PY_PLATINCLUDE	:= $(word 4,$(PY_INFO))
PY_EXT_SUFFIX	:= $(word 5,$(PY_INFO))
PY_HEADERS	:= $(word 6,$(PY_INFO))

PY_SKIP		:= $(if $(strip $(PYTHON)),$(if $(wildcard $(PY_TOP)/python/ext/module.c),,python/ext/module.c \
			is not in the tree: the extension sealshm._sealshm is not built),PYTHON is \
			empty: the Python package is left out)
