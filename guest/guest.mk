# Guests: the SDK (guest/), the example images (guest/examples/ -> images/)
# and the test guests (tests/guests/ -> $(BUILD)/test-guests/).
# Included by the top-level Makefile, which defines BUILD, CC and WARN.
#
# A guest is one C file linked with the SDK:
#     $(call guest_image,IMAGE,SOURCE.c[,EXTRA_CFLAGS[,EXTRA_OBJECTS]])
# makes the rules for IMAGE. EXTRA_OBJECTS are linked in too (and are
# prerequisites of the image); their rules are the caller's: bench/bench.mk
# uses this for an object that must be compiled with other flags than the
# guest's C file. An image whose name ends in "-pie" is built as
# a static-pie (ET_DYN, loaded at 0x400000), any other as an ET_EXEC at
# 0x400000 (guest/guest.ld).

# No red zone: hv pushes exception frames right below a guest kernel's rsp,
# and a fast gate's CPU-pushed frame lands below any guest code's rsp.
GUEST_CFLAGS := -std=gnu11 $(WARN) -O2 -g -ffreestanding -fno-stack-protector -mno-red-zone \
	-fno-asynchronous-unwind-tables -fno-common -I include -I guest/include -I .
GUEST_EXEC_CFLAGS := $(GUEST_CFLAGS) -fno-pic -fno-pie
GUEST_PIE_CFLAGS := $(GUEST_CFLAGS) -fpie

# max-page-size=4096: segments start on 4 KiB pages, not 2 MiB ones.
GUEST_LDFLAGS := -nostdlib -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--build-id=none
GUEST_EXEC_LDFLAGS := $(GUEST_LDFLAGS) -static -no-pie -Wl,-T,guest/guest.ld
# ld's own static-pie layout, linked at 0; separate-code keeps the text off
# the pages of the headers and of rodata.
GUEST_PIE_LDFLAGS := $(GUEST_LDFLAGS) -static-pie -Wl,-z,separate-code

# --- the SDK: the same sources twice, plain and position-independent -----------
GUEST_SDK_SRCS := guest/lib/start.S guest/lib/console.c guest/lib/runtime.c \
	guest/lib/cpu.c guest/lib/trap_entry.S guest/lib/trap_fast.S guest/lib/event.c \
	guest/lib/event_entry.S guest/lib/console_input.c lib/fmt.c lib/string.c
GUEST_SDK_OBJS := $(patsubst %,$(BUILD)/guest-sdk/%.o,$(GUEST_SDK_SRCS))
GUEST_SDK_PIE_OBJS := $(patsubst %,$(BUILD)/guest-sdk-pie/%.o,$(GUEST_SDK_SRCS))

$(BUILD)/guest-sdk/%.o: %
	@mkdir -p $(@D)
	$(CC) $(GUEST_EXEC_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/guest-sdk-pie/%.o: %
	@mkdir -p $(@D)
	$(CC) $(GUEST_PIE_CFLAGS) -MMD -MP -c $< -o $@

# --- one guest image ----------------------------------------------------------------
guest_is_pie = $(filter %-pie,$(notdir $(1)))
guest_cflags = $(if $(call guest_is_pie,$(1)),$(GUEST_PIE_CFLAGS),$(GUEST_EXEC_CFLAGS))
guest_ldflags = $(if $(call guest_is_pie,$(1)),$(GUEST_PIE_LDFLAGS),$(GUEST_EXEC_LDFLAGS))
guest_sdk = $(if $(call guest_is_pie,$(1)),$(GUEST_SDK_PIE_OBJS),$(GUEST_SDK_OBJS))
# The object lives under $(BUILD) even when the image does not (images/).
guest_object = $(BUILD)/guest-obj/$(patsubst $(BUILD)/%,%,$(1)).o

# $(call guest_rules,image,source,object,extra cflags,extra objects)
define guest_rules
$(3): $(2)
	@mkdir -p $$(@D)
	$$(CC) $(call guest_cflags,$(1)) $(4) -MMD -MP -c $$< -o $$@

$(1): $(3) $(5) $(call guest_sdk,$(1)) $(if $(call guest_is_pie,$(1)),,guest/guest.ld)
	@mkdir -p $$(@D)
	$$(CC) $(call guest_cflags,$(1)) $(call guest_ldflags,$(1)) $(3) $(5) $(call guest_sdk,$(1)) -o $$@ -lgcc
endef

guest_image = $(eval $(call guest_rules,$(1),$(2),$(call guest_object,$(1)),$(3),$(4)))

# lines_a.c -> lines-a
guest_name = $(subst _,-,$(basename $(notdir $(1))))

# --- example guests: built into images/, the folder `make` puts on the ESP ------
GUEST_EXAMPLE_SRCS := $(sort $(wildcard guest/examples/*.c))
GUEST_EXAMPLES := $(foreach s,$(GUEST_EXAMPLE_SRCS),images/$(call guest_name,$(s)))
$(foreach s,$(GUEST_EXAMPLE_SRCS),$(call guest_image,images/$(call guest_name,$(s)),$(s)))

# --- test guests: built into $(BUILD)/test-guests/ for the system tests ---------
# tests/guests/fault.c makes one image per kind: fault-<kind> is compiled
# with -DFAULT=<kind, '-' as '_'>. What each kind does and which exception
# it must raise is listed in that file.
GUEST_FAULT_KINDS := ud gp sti hlt io io-in msr msr-write cr cr-write dr-write \
	lgdt lidt sgdt invlpg wbinvd swapgs sysret rdpmc int80 int-nmi int1 bp \
	de de-overflow pf-null pf-read pf-write-text pf-write-rodata \
	pf-write-start-info pf-exec-data pf-exec-stack pf-exec-heap \
	hv-memory hv-direct-map hv-jump noncanonical xm popf-iopl sysenter mf
# Xen-ABI test guests (tests/guests/xen_*.c but xen_gdt_probe.c, one of
# hv's own): Xen PV images with their own start code, notes and linker
# script (tests/guests/xen/), no SDK; not hv images, so not for check-guests.
XEN_PV_TEST_SRCS := $(filter-out tests/guests/xen_gdt_probe.c,$(sort $(wildcard tests/guests/xen_*.c)))
XEN_PV_TEST_GUESTS := $(foreach s,$(XEN_PV_TEST_SRCS),$(BUILD)/test-guests/$(call guest_name,$(s)))
XEN_PV_LIB := tests/guests/xen/start.S tests/guests/xen/traps.S tests/guests/xen/xen_lib.c lib/fmt.c lib/string.c
XEN_PV_LIB_OBJS := $(patsubst %,$(BUILD)/xen-guest-lib/%.o,$(XEN_PV_LIB))
$(BUILD)/xen-guest-lib/%.o: %
	@mkdir -p $(@D)
	$(CC) $(GUEST_EXEC_CFLAGS) -MMD -MP -c $< -o $@
define xen_pv_guest_rules
$(BUILD)/test-guests/$(call guest_name,$(1)): $(1) $(XEN_PV_LIB_OBJS) tests/guests/xen/xen.ld
	@mkdir -p $$(@D)
	$$(CC) $(GUEST_EXEC_CFLAGS) $(GUEST_LDFLAGS) -static -no-pie -Wl,--no-warn-rwx-segments \
		-Wl,-T,tests/guests/xen/xen.ld $$< $(XEN_PV_LIB_OBJS) -o $$@ -lgcc
endef
$(foreach s,$(XEN_PV_TEST_SRCS),$(eval $(call xen_pv_guest_rules,$(s))))

GUEST_TEST_SRCS := $(filter-out tests/guests/fault.c $(XEN_PV_TEST_SRCS),$(sort $(wildcard tests/guests/*.c)))
TEST_GUESTS := $(foreach s,$(GUEST_TEST_SRCS),$(BUILD)/test-guests/$(call guest_name,$(s))) \
	$(patsubst %,$(BUILD)/test-guests/fault-%,$(GUEST_FAULT_KINDS))

$(foreach s,$(GUEST_TEST_SRCS),$(call guest_image,$(BUILD)/test-guests/$(call guest_name,$(s)),$(s)))
$(foreach k,$(GUEST_FAULT_KINDS),$(call guest_image,$(BUILD)/test-guests/fault-$(k),tests/guests/fault.c,-DFAULT=$(subst -,_,$(k))))

# --- targets ----------------------------------------------------------------------
.PHONY: guests test-guests check-guests clean-guests
guests: $(GUEST_EXAMPLES)
test-guests: $(TEST_GUESTS) $(XEN_PV_TEST_GUESTS)

# Segment layout and permissions, the image notes, relocations: see the
# script. rs-note-halt is left out: its policy note asks for halt on purpose
# (hv refuses it unless hv.cfg decides on_fault; tests/tools/test_check_image.py
# checks that the script refuses it too).
check-guests: $(GUEST_EXAMPLES) $(TEST_GUESTS)
	python3 guest/check_image.py $(filter-out %/rs-note-halt,$^)

# `make clean` empties $(BUILD); the examples live in images/.
clean-guests:
	rm -f $(GUEST_EXAMPLES)

# --- the SDK as a folder of its own: `make sdk`, `make install-sdk PREFIX=...` ------
# Everything a guest in another project needs, and nothing of this tree:
#     include/    hvg.h, hvg_cpu.h, hvg_event.h, hv/abi*.h, lib/fmt.h, lib/string.h
#     lib/        libhvg.a (ET_EXEC guests), libhvg-pie.a (static-pie), hvg.ld
#     hvg.mk      the make fragment (guest/sdk/hvg.mk explains it)
#     bin/        hvg-check-image (guest/check_image.py)
# The libraries are the very objects the guests of this tree link.
AR ?= ar
SDK_DIR := $(BUILD)/sdk
PREFIX ?= /opt/hv-sdk
SDK_HEADERS := $(sort $(wildcard include/hv/*.h)) $(sort $(wildcard guest/include/*.h)) \
	lib/fmt.h lib/string.h

$(SDK_DIR)/lib/libhvg.a: $(GUEST_SDK_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(SDK_DIR)/lib/libhvg-pie.a: $(GUEST_SDK_PIE_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

# Headers, script and fragment are copied afresh each time (it takes no
# time), so a header removed here never lingers there.
.PHONY: sdk install-sdk
sdk: $(SDK_DIR)/lib/libhvg.a $(SDK_DIR)/lib/libhvg-pie.a
	rm -rf $(SDK_DIR)/include $(SDK_DIR)/bin
	mkdir -p $(SDK_DIR)/include/hv $(SDK_DIR)/include/lib $(SDK_DIR)/bin
	cp include/hv/*.h $(SDK_DIR)/include/hv/
	cp guest/include/*.h $(SDK_DIR)/include/
	cp lib/fmt.h lib/string.h $(SDK_DIR)/include/lib/
	cp guest/guest.ld $(SDK_DIR)/lib/hvg.ld
	cp guest/sdk/hvg.mk $(SDK_DIR)/hvg.mk
	cp guest/check_image.py $(SDK_DIR)/bin/hvg-check-image
	chmod +x $(SDK_DIR)/bin/hvg-check-image
	@echo "SDK in $(SDK_DIR)/ (make install-sdk PREFIX=... copies it)"

install-sdk: sdk
	mkdir -p $(PREFIX)
	cp -R $(SDK_DIR)/. $(PREFIX)/
	@echo "SDK installed in $(PREFIX)/: HVG_SDK := $(abspath $(PREFIX)) in a guest's Makefile"
