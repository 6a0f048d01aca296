# hvg.mk: build guests of hv against this SDK, in a project of your own.
#
#     HVG_SDK := /path/to/hv-sdk
#     include $(HVG_SDK)/hvg.mk
#     $(eval $(call hvg_guest,hello,hello.c))
#
# `make` then builds the image `hello` (give it to hv: the ESP's images
# folder), `make check` checks every image against what hv requires, and
# `make clean` removes what this fragment built. More guests: one
# `$(eval $(call hvg_guest,...))` line each.
#
#     $(call hvg_guest,IMAGE,SOURCES[,EXTRA_CFLAGS])
#
# IMAGE is the file to make (a path relative to the Makefile, or absolute);
# SOURCES are .c and .S files. An IMAGE whose name ends in "-pie" is linked
# as a static position-independent executable (hv relocates it), any other
# as a fixed-address ET_EXEC at 0x400000 (lib/hvg.ld).
#
# Settings you may change before the include or on the command line:
#     CC          the compiler (gcc or clang for x86-64)
#     HVG_OBJDIR  where objects and dependency files go (default hvg-obj)
#     V=1         show the commands
# docs/writing-guests.md in hv's source tree is the guide.

HVG_SDK ?= $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
HVG_OBJDIR ?= hvg-obj
CC ?= cc
AR ?= ar
PYTHON ?= python3

# The first target of a Makefile that includes this before any of its own
# rules: `make` builds every guest.
.PHONY: all check clean
all:

ifeq ($(V),1)
hvg_q :=
hvg_say = @true
else
hvg_q := @
hvg_say = @printf '  %-6s %s\n'
endif

# No red zone: hv pushes exception and event frames right below a guest
# kernel's rsp. No stack protector, no unwind tables, no libc: the SDK is
# all there is under the guest.
HVG_CFLAGS := -std=gnu11 -Wall -Wextra -O2 -g -ffreestanding -fno-stack-protector \
	-mno-red-zone -fno-asynchronous-unwind-tables -fno-common -I$(HVG_SDK)/include
HVG_EXEC_CFLAGS := $(HVG_CFLAGS) -fno-pic -fno-pie
HVG_PIE_CFLAGS := $(HVG_CFLAGS) -fpie
# Segments on 4 KiB pages (hv maps each page with one permission); -u
# _start takes the entry point out of the library.
HVG_LDFLAGS := -nostdlib -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--build-id=none \
	-Wl,-u,_start
HVG_EXEC_LDFLAGS := $(HVG_LDFLAGS) -static -no-pie -Wl,-T,$(HVG_SDK)/lib/hvg.ld
HVG_PIE_LDFLAGS := $(HVG_LDFLAGS) -static-pie -Wl,-z,separate-code

hvg_is_pie = $(filter %-pie,$(notdir $(1)))
hvg_kind = $(if $(call hvg_is_pie,$(1)),PIE,EXEC)
hvg_lib = $(HVG_SDK)/lib/libhvg$(if $(call hvg_is_pie,$(1)),-pie).a
# hello.c of image out/hello -> hvg-obj/out/hello/hello.c.o
hvg_obj = $(HVG_OBJDIR)/$(patsubst /%,_abs/%,$(1))/$(subst ../,__/,$(patsubst /%,_abs/%,$(2))).o

HVG_GUESTS :=

# $(call hvg_compile,image,source,extra cflags)
define hvg_compile
$(call hvg_obj,$(1),$(2)): $(2) $(HVG_SDK)/hvg.mk
	@mkdir -p $$(@D)
	$$(hvg_say) CC $$<
	$$(hvg_q)$$(CC) $$(HVG_$(call hvg_kind,$(1))_CFLAGS) $(3) -MMD -MP -c $$< -o $$@
-include $(patsubst %.o,%.d,$(call hvg_obj,$(1),$(2)))
endef

define hvg_guest
$(foreach s,$(2),$(call hvg_compile,$(1),$(s),$(3)))
$(1): $(foreach s,$(2),$(call hvg_obj,$(1),$(s))) $(call hvg_lib,$(1)) $(HVG_SDK)/lib/hvg.ld
	@mkdir -p $$(@D)
	$$(hvg_say) LINK $$@
	$$(hvg_q)$$(CC) $$(HVG_$(call hvg_kind,$(1))_CFLAGS) $$(HVG_$(call hvg_kind,$(1))_LDFLAGS) \
		$(foreach s,$(2),$(call hvg_obj,$(1),$(s))) $(call hvg_lib,$(1)) -lgcc -o $$@
all: $(1)
HVG_GUESTS += $(1)
endef

# Page-separated segments, no writable+executable one, a non-executable
# stack, only relative relocations, a well-formed note.
check: all
	$(PYTHON) $(HVG_SDK)/bin/hvg-check-image $(HVG_GUESTS)

clean:
	rm -rf $(HVG_OBJDIR) $(HVG_GUESTS)
