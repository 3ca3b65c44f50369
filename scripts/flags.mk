# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build switches every sealshm Makefile reads the same way; included, never
# run on its own.
#
#   V=1          show each command instead of a one-line summary
#   SANITIZE=1   build with ASan + UBSan (SAN_FLAGS, for compiling and linking)
#   WERROR=0     let warnings through (default 1: CI and `make check` treat
#                them as errors; a newer compiler may warn about more)
#
# It defines Q and msg (prefix and summary of a recipe line), SAN_FLAGS and
# WARN_CFLAGS; the Makefile that includes it puts them in its own flags.

ifeq ($(V),1)
Q		:=
msg		= @true
else
Q		:= @
msg		= @printf '  %-8s %s\n' $(1) $(2)
endif

ifeq ($(SANITIZE),1)
SAN_FLAGS	:= -fsanitize=address,undefined -fno-omit-frame-pointer
endif

WERROR		?= 1
WARN_CFLAGS	:= -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
