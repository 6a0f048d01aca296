# hv: build, run and test. `make help` lists the targets; README.md explains.
.DEFAULT_GOAL := all
.SUFFIXES:
SHELL := /bin/bash

BUILD   := build
CC      := gcc
LD      := ld
OBJCOPY := objcopy

# Run-time knobs for `make run` (see README.md).
IMAGES  ?= images
SMP     ?= 4
MEM     ?= 256
MACHINE ?= q35
CPU     ?= max
# Not DISPLAY: X11 sets that to ":0" in every desktop's environment.
QEMU_DISPLAY ?= none
ICOUNT  ?= 0
TIMEOUT ?= 300
HV_CFG  ?= $(if $(filter images,$(IMAGES)),guest/examples/hv.cfg)
QEMU_ARGS ?=
# Where `make` puts the ESP and where `make run` and `make debug` work.
ESP_IMG  ?= $(BUILD)/esp.img
ESP_TREE ?= $(BUILD)/esp
RUN_DIR  ?= $(BUILD)/run
DEBUG_DIR ?= $(BUILD)/debug
GDB_PORT ?= 1234
DEBUG_TIMEOUT ?= 3600

WARN := -Wall -Wextra -Werror

# --- the hypervisor core: freestanding, linked at the top 2 GiB -------------
# -mgeneral-regs-only: hv never touches FPU/SSE state, so a guest's is only
#   ever saved and restored, never clobbered by hypervisor code.
# -fno-tree-loop-distribute-patterns: lib/string.c implements memset and
#   friends with loops GCC would otherwise turn back into calls to themselves.
# -falign-*=1: no padding to 16 bytes before functions, loops and jump
#   targets (-O2's default): 6.5 KB of NOPs in .text, 2 KB of hv.efi after
#   packing; make bench counts instructions, where padding only adds NOPs
#   (docs/benchmarks.md, hv_image_bytes).
# -ffunction-sections -fdata-sections and the link's --gc-sections: what
#   nothing calls or reads is left out (hv/hv.ld KEEPs the sections found
#   only through linker symbols); -malign-data=abi: arrays aligned as the
#   ABI says, not to 32 bytes from 32 bytes on.
# -fno-schedule-insns2: no reordering of instructions after register
#   allocation. It changes no instruction, only their order, so make bench's
#   counts stay the same; GCC's order interleaves independent instructions
#   differently at each copy of a pattern, which LZ matches cannot follow:
#   the packed core 3,040 bytes smaller (docs/benchmarks.md, hv_image_bytes).
CORE_CFLAGS := -std=gnu11 $(WARN) -O2 -g -ffreestanding -fno-pic -fno-pie \
	-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-omit-frame-pointer -fno-tree-loop-distribute-patterns \
	-fno-asynchronous-unwind-tables -fno-common -falign-functions=1 -falign-jumps=1 \
	-falign-loops=1 -falign-labels=1 -malign-data=abi -ffunction-sections -fdata-sections -I. -MMD -MP \
	-fno-schedule-insns2
CORE_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack \
	-Wl,--build-id=none -Wl,--gc-sections -T hv/hv.ld
CORE_SRCS := $(sort $(shell find hv vcpu guest-loader -name '*.c' 2>/dev/null)) lib/fmt.c lib/string.c \
	lib/bench_work.c lib/sha256.c lib/pci_class.c
CORE_ASMS := $(sort $(shell find hv vcpu -name '*.S' 2>/dev/null))
CORE_OBJS := $(patsubst %,$(BUILD)/core/%.o,$(CORE_SRCS) $(CORE_ASMS)) \
	$(BUILD)/core/image_policy_table.o

$(BUILD)/core/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

# Code that runs once (boot, loading images, parsing hv.cfg, ACPI, the
# panic report, power-off) is built for size: it is most of hv's code and
# none of its hot paths (entry, hypercall dispatch, delivery, the switch,
# events, uaccess, the timer and console paths stay -O2; make bench shows
# them unchanged). docs/benchmarks.md, hv_image_bytes, says what it saves.
CORE_COLD_SRCS := $(wildcard guest-loader/*.c hv/acpi/*.c hv/config/*.c hv/xen/*.c) \
	hv/debug/panic.c hv/debug/stats.c hv/debug/stats_cpu.c hv/debug/symbols.c hv/debug/symtab.c hv/debug/trace.c hv/debug/trace_rec.c \
	hv/hypercall/hypercall_health.c hv/main.c hv/firmware_dma.c hv/firmware_dma_text.c \
	hv/power/power.c hv/power/end_rule.c hv/cpu/features.c hv/cpu/mitigation_rules.c \
	hv/cpu/gdt.c hv/cpu/idt.c hv/cpu/lock_order.c hv/cpu/entry_patch.c hv/cpu/smp.c hv/cpu/smp_ap.c hv/cpu/smp_rules.c hv/mm/memmap.c hv/time/calibrate.c \
	hv/time/wallclock.c hv/console/keymap.c hv/console/log_repeat.c lib/pci_class.c \
	hv/guest/restart.c hv/guest/restart_policy.c hv/guest/health_monitor.c hv/guest/leak_check.c \
	hv/sched/partition.c hv/sched/placement.c hv/sched/sched_place.c hv/sched/balance.c hv/console/ps2.c hv/console/status_line.c \
	hv/mm/mm.c hv/mm/mm_alloc.c hv/mm/frame_alloc.c hv/hypercall/hypercall_mem.c hv/mm/tlb_batch.c hv/cpu/tlb_shootdown.c \
	hv/mm/pt_bounded.c \
	hv/debug/irqoff.c lib/sha256.c lib/fmt.c hv/console/input.c hv/time/timescale.c \
	hv/guest/guest_end.c hv/hypercall/hypercall_cpu.c hv/console/fbcon.c \
	vcpu/smap_quirk.c vcpu/trap_table.c hv/time/refclock.c hv/sched/windows.c \
	hv/console/log_drain.c hv/console/log.c hv/console/console_text.c hv/console/linebuf.c hv/console/serial.c
# Without GCC's inlining of small functions and shrink-wrapping, which
# make cold code bigger or less repetitive (session 14: -114 packed bytes
# over the boot-only files' -283; their figures, hv_irq_off_max,
# tlb_shootdown and ap_bringup, keep their targets).
$(patsubst %,$(BUILD)/core/%.o,$(CORE_COLD_SRCS)): CORE_CFLAGS += -Os -fno-inline-small-functions -fno-shrink-wrap
# Of those, the code that runs only while hv boots and loads its guests, or
# on paths no measured figure takes (a Xen PV guest, a panic), not the
# files with hooks on measured paths (xen_gdt.c's switch, xen_build.c's
# and shm.c's guest end, restart*.c): also without partial redundancy
# elimination, code hoisting and IPA-SRA (docs/benchmarks.md
# hv_image_bytes), and no figure but boot_first_guest and boot_32_guests
# can move.
CORE_BOOT_SRCS := $(filter-out hv/xen/xen_gdt.c hv/xen/xen_build.c guest-loader/shm.c, \
	$(wildcard guest-loader/*.c hv/acpi/*.c hv/config/*.c hv/xen/*.c)) \
	hv/main.c hv/firmware_dma.c hv/firmware_dma_text.c hv/power/power.c \
	hv/cpu/mitigation_rules.c hv/mm/memmap.c lib/pci_class.c hv/debug/panic.c \
	hv/debug/symbols.c hv/debug/symtab.c
$(patsubst %,$(BUILD)/core/%.o,$(CORE_BOOT_SRCS)): CORE_CFLAGS += -fno-tree-pre -fno-code-hoisting -fno-ipa-sra
# The cold files optimized together at the link (GCC's LTO, one partition:
# each function keeps its file's flags, but a function one file alone
# calls is inlined or dropped, and constants and unused results cross
# files): the packed core 2,516 bytes smaller. Not the cold files whose
# code runs where a changed instruction would move a figure: the clock's
# calibration (every figure converted from time), the log and console
# paths, a guest's end, the irq-off probe, the event trace (the _traced
# figures), the schedule's windows, placement and balance (fairness).
CORE_LTO_SRCS := $(filter-out hv/time/refclock.c hv/time/calibrate.c hv/time/timescale.c \
	lib/fmt.c hv/console/%.c hv/debug/irqoff.c hv/guest/guest_end.c \
	hv/hypercall/hypercall_cpu.c hv/debug/trace.c hv/debug/trace_rec.c hv/sched/%.c, \
	$(CORE_COLD_SRCS))
$(patsubst %,$(BUILD)/core/%.o,$(CORE_LTO_SRCS)): CORE_CFLAGS += -flto
CORE_LTO_LDFLAGS := -flto=1 -flto-partition=one

$(BUILD)/core/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

# Full debug info stays in hv-core.elf (for gdb); the copy carried inside
# BOOTX64.EFI has no ELF symbols, only the table of function names and
# ranges panic stack traces read (hv/debug/symtab.h, section .hvsyms: about
# 2.5 bytes an entry against the ELF symtab's 24, 4 KB less in hv.efi).
# The cold objects first, then the rest: similar code (-Os with -Os, -O2
# with -O2) close together packs smaller (187 bytes) than the sorted order.
CORE_COLD_OBJS = $(patsubst %,$(BUILD)/core/%.o,$(CORE_COLD_SRCS))
# Each link's object list in a file rewritten only when the list changes:
# a source renamed or removed relinks. Without it every object left is
# older than the last link, and the old link, with the removed file's code
# in it, stays. The list is kept relative to $(BUILD), so that the same
# tree named another way (BUILD=build or BUILD=/abs/build, as the system
# tests call make) is the same list and relinks nothing.
LINK_LIST_core = $(patsubst $(BUILD)/%,%,$(CORE_OBJS))
LINK_LIST_stub = $(patsubst $(BUILD)/%,%,$(EFI_OBJS))
$(BUILD)/link-%.objs: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' $(LINK_LIST_$*) | cmp -s - $@ || printf '%s\n' $(LINK_LIST_$*) > $@

reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
CORE_LINK_ORDER = $(call reverse,$(filter $(CORE_COLD_OBJS),$(CORE_OBJS)) \
	$(filter-out $(CORE_COLD_OBJS),$(CORE_OBJS)))
$(BUILD)/hv-core.elf: $(CORE_OBJS) hv/hv.ld $(BUILD)/link-core.objs
	$(CC) $(CORE_CFLAGS) $(CORE_LTO_LDFLAGS) $(CORE_LDFLAGS) $(CORE_LINK_ORDER) -o $@ -lgcc

$(BUILD)/tools/symtab_pack: tools/symtab_pack.c tools/symtab_enc.c tools/symtab_enc.h \
		hv/debug/symtab.c hv/debug/symtab.h lib/elf64.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -O2 -I. $(filter %.c,$^) -o $@

# The segments, the table and its section header alone (tools/core_sections.py:
# hv reads no other section; 173 packed bytes fewer than objcopy's nine).
$(BUILD)/hv-core.sym.elf: $(BUILD)/hv-core.elf $(BUILD)/tools/symtab_pack tools/core_sections.py
	$(BUILD)/tools/symtab_pack $< $@.hvsyms
	python3 tools/core_sections.py $< $@.hvsyms $@

# BOOTX64.EFI carries that file packed (lib/lz.h: an LZ77 with Huffman-coded
# tokens, the code's calls and jumps made offsets first: lib/branch_filter.h).
$(BUILD)/tools/lzpack: tools/lzpack.c tools/lz_pack.c tools/lz_pack.h tools/lz_parse.c \
		tools/lz_parse.h lib/lz_unpack.c lib/lz.h \
		lib/branch_filter.c lib/branch_filter.h lib/elf64.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -O2 -I. $(filter %.c,$^) -o $@

$(BUILD)/hv-core.lz: $(BUILD)/hv-core.sym.elf $(BUILD)/tools/lzpack
	$(BUILD)/tools/lzpack $< $@

# --- the image policy: `make HV_POLICY=FILE` (guest-loader/image_policy.h) --
# The hashes of the images hv may run, compiled in (covered by hv.efi's
# signature); without HV_POLICY, an inactive table. tools/policy_gen checks
# the file with hv's own parser, so a bad line fails the build. The table is
# regenerated every time (make cannot see HV_POLICY or the file change) and
# replaced only when it differs.
HV_POLICY ?=
$(BUILD)/tools/policy_gen: tools/policy_gen.c guest-loader/image_policy.c guest-loader/image_policy.h \
		hv/config/config.c lib/sha256.c lib/fmt.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -O2 -I. $(filter %.c,$^) -o $@

$(BUILD)/gen/image_policy_table.c: $(BUILD)/tools/policy_gen FORCE
	@mkdir -p $(@D)
	@$(BUILD)/tools/policy_gen $(HV_POLICY) > $@.tmp || { rm -f $@.tmp; exit 1; }
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/core/image_policy_table.o: $(BUILD)/gen/image_policy_table.c
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

# --- the UEFI stub (gnu-efi) ---------------------------------------------------
EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
# gnu-efi's headers come in with -isystem: they are not ours to fix and
# trip -Wextra (unused parameters in inline helpers).
EFI_CFLAGS := -std=gnu11 $(WARN) -O2 -g -ffreestanding -fpic -fshort-wchar -mabi=ms \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -fno-strict-aliasing \
	-fno-asynchronous-unwind-tables -DGNU_EFI_USE_MS_ABI \
	-isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -I. -MMD -MP \
	-ffunction-sections -fdata-sections -fvisibility=hidden -DHV_CORE_PACKED_PATH='"$(BUILD)/hv-core.lz"' \
	-Wframe-larger-than=4096
# (No stack frame over 4 KiB: a chain-loaded hv.efi runs on its loader's
# stack, and nothing probes it; the largest is build_table's, ~630 bytes.)
EFI_SRCS := $(sort $(wildcard efi/*.c)) lib/pci_class.c hv/config/config.c \
	lib/lz_unpack.c lib/branch_filter.c
EFI_ASMS := $(sort $(wildcard efi/*.S))
EFI_OBJS := $(patsubst %,$(BUILD)/efi/%.o,$(EFI_SRCS) $(EFI_ASMS))

$(BUILD)/efi/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(EFI_CFLAGS) -c $< -o $@

# The stub runs once: built for size, all but the unpacking loop, which
# runs once per packed sequence, some 30,000 times, and the branch filter's,
# once per 8 bytes of the core's code (their boot cost: docs/benchmarks.md
# boot_first_guest; the rest of the stub measured the same -Os as -O2, 4.3 M
# to ExitBootServices, within the firmware's own spread). -Oz and no
# inlining of functions called once, jump tables or shrink-wrapping:
# -320 bytes of .text (docs/benchmarks.md, hv_image_bytes).
STUB_HOT_SRCS := lib/lz_unpack.c lib/branch_filter.c
$(patsubst %,$(BUILD)/efi/%.o,$(filter-out $(STUB_HOT_SRCS),$(EFI_SRCS))): EFI_CFLAGS += -Oz \
	-fno-inline-functions-called-once -fno-jump-tables -fno-shrink-wrap
# Those -O2 without -O2's padding of jump targets and loops (as the core):
# the same instructions, 64 bytes of padding NOPs fewer.
$(patsubst %,$(BUILD)/efi/%.o,$(STUB_HOT_SRCS)): EFI_CFLAGS += -falign-functions=1 \
	-falign-jumps=1 -falign-loops=1 -falign-labels=1
# The decoder keeps System V's calling convention (lib/lz.h's LZ_ABI):
# -mabi=ms leaves it two scratch registers fewer (+2,000 instructions).
# Its frame (48 KiB of tables) is on a stack of its own, 128 KiB
# (efi/core_load.c, efi/stub.h STUB_UNPACK_STACK_PAGES): each of its frames
# bounded here (their nesting and the firmware's interrupts are the
# stack's margin). It must stay general registers only (the stub's
# -mgeneral-regs-only): its -mabi=ms callers save no xmm6-15 around a
# System V call, which may use them all (the hv.so rule checks its object).
$(BUILD)/efi/lib/lz_unpack.c.o: EFI_CFLAGS += -mabi=sysv -Wframe-larger-than=50000
# The branch filter scans the core's code with SSE2 (lib/branch_filter.c
# says why the stub may).
$(BUILD)/efi/lib/branch_filter.c.o: EFI_CFLAGS += -msse2

# The stub passes hv.cfg's syntax errors to nobody (the core reports them):
# its copy of the parser carries no reason texts (hv/config/config.c).
$(BUILD)/efi/hv/config/config.c.o: EFI_CFLAGS += -DCFG_NO_REASONS

$(BUILD)/efi/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/efi/efi/core_blob.S.o: $(BUILD)/hv-core.lz

# Hidden visibility and a section per function, so that --gc-sections
# drops what the stub links but never calls (most of lib/pci_class.c and
# hv/config/config.c); --orphan-handling=error because a section
# efi/stub.lds does not place would be left out of the PE file; then a check
# that the stub has no relocations: nothing applies them (no gnu-efi crt0,
# whose _start called a self-relocation: the whole stub is built with the
# firmware's calling convention, -mabi=ms, and efi_main is the PE entry
# point; tools/check_stub_relocs.py).
$(BUILD)/hv.so: $(EFI_OBJS) efi/stub.lds tools/check_stub_relocs.py $(BUILD)/link-stub.objs
	$(LD) -nostdlib -znocombreloc -shared -Bsymbolic -z defs --gc-sections --orphan-handling=error -T efi/stub.lds \
		$(EFI_OBJS) -o $@
	@python3 tools/check_stub_relocs.py $@ || { rm -f $@; exit 1; }
	@if objdump -d $(BUILD)/efi/lib/lz_unpack.c.o | grep -q '%[xyz]mm'; then \
		echo "hv.so: lz_unpack.c uses SSE registers: its -mabi=ms callers save no xmm6-15 (lib/lz.h)" >&2; \
		rm -f $@; exit 1; fi

# Only what runs goes into the PE file: no COFF symbol table (gdb reads
# hv.efi.debug), no .dynsym and no .dynamic (only a self-relocation would
# read them, and the stub has nothing to relocate), no base relocations
# (no .reloc section, an empty directory: tools/pe_relocs.py clears the
# RELOCS_STRIPPED flag objcopy sets for that and checks the form).
$(BUILD)/hv.efi: $(BUILD)/hv.so tools/pe_relocs.py
	$(OBJCOPY) -j .text -j .sdata -j .data -j .rel -j .rela \
		-j '.rel.*' -j '.rela.*' --strip-all --target efi-app-x86_64 --subsystem=10 $< $@
	@python3 tools/pe_relocs.py --fix $@ || { rm -f $@; exit 1; }
	$(OBJCOPY) --only-keep-debug $< $(BUILD)/hv.efi.debug

# --- guests: the SDK, example images (into images/) and test guests ---------
include guest/guest.mk

# --- benchmarks: `make bench` (docs/benchmarks.md) --------------------------
include bench/bench.mk

.PHONY: bench
bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/hv.efi bench-guests
	python3 bench/run.py $(BENCH_RUN_ARGS)

# --- the ESP: what goes on a USB stick ----------------------------------------
# build/esp/ and build/esp.img never carry QEMU-only settings: `make run`
# and the tests boot a copy with the runner's additions.
ESP_IMAGES := $(sort $(wildcard $(IMAGES)/*) $(if $(filter images,$(IMAGES)),$(GUEST_EXAMPLES)))

# Rebuilt every time (it takes a fraction of a second): what goes on it
# depends on IMAGES and HV_CFG, which make cannot see change.
.PHONY: FORCE
FORCE:
$(ESP_IMG): $(BUILD)/hv.efi $(ESP_IMAGES) $(HV_CFG) scripts/mkesp.sh FORCE
	scripts/mkesp.sh --efi $(BUILD)/hv.efi --images $(IMAGES) $(if $(HV_CFG),--cfg $(HV_CFG)) \
		--tree $(ESP_TREE) --out $@

.PHONY: all
all: $(BUILD)/hv.efi $(ESP_IMG)

# --- Secure Boot: `make sign KEY=db.key CERT=db.pem` ---------------------------
# Writes $(BUILD)/hv-signed.efi (hv.efi stays unsigned, so a rebuild never
# keeps a stale signature) and an ESP with it, $(BUILD)/esp-signed.img and
# the folder $(BUILD)/esp-signed/, for a PC whose firmware has CERT in db.
# It rebuilds hv first: give HV_POLICY here too, or the policy is left out.
# docs/real-hardware.md ("Secure Boot") says how to enroll a key.
.PHONY: sign
sign: deps all
	scripts/sign-efi.sh --key "$(KEY)" --cert "$(CERT)" --in $(BUILD)/hv.efi --out $(BUILD)/hv-signed.efi
	scripts/mkesp.sh --efi $(BUILD)/hv-signed.efi --images $(IMAGES) $(if $(HV_CFG),--cfg $(HV_CFG)) \
		--tree $(BUILD)/esp-signed --out $(BUILD)/esp-signed.img
	@echo "make sign: image policy built in: $(if $(HV_POLICY),$(HV_POLICY),none (HV_POLICY unset: any image may run))"

# --- a whole disk for a USB stick (docs/real-hardware.md) ---------------------
# The ESP tree above (no QEMU-only settings) in a GPT with one FAT32 EFI
# system partition: `dd` puts build/hv-usb.img on a stick, `make usb` does
# it with checks. Both read back what they wrote.
.PHONY: disk-image
disk-image: $(BUILD)/hv-usb.img
$(BUILD)/hv-usb.img: $(BUILD)/esp.img scripts/mkdisk.sh FORCE
	scripts/mkdisk.sh --tree $(BUILD)/esp --out $@

# make usb DEV=/dev/sdX [YES=1]: that image onto a USB stick, after checks
# (scripts/write-usb.sh: removable, not mounted, not the running system,
# large enough; it asks first unless YES=1) and read back.
.PHONY: usb
usb: deps
	@[ -n "$(DEV)" ] || { echo "make usb: say which device: make usb DEV=/dev/sdX (lsblk lists them)" >&2; exit 2; }
	@$(MAKE) --no-print-directory disk-image
	scripts/write-usb.sh --image $(BUILD)/hv-usb.img --dev $(DEV) $(if $(filter 1,$(YES)),--yes)

# --- make matrix: the examples on every machine, CPU model, RAM size,
# firmware (plain, Secure Boot signed) and console (serial, screen); make
# test runs its short form (tests/system/matrix.py) -------------------------
.PHONY: matrix
matrix: deps
	@$(MAKE) --no-print-directory all $(BUILD)/screentext
	python3 tests/system/matrix.py --build $(BUILD)

# --- set-up -----------------------------------------------------------------
.PHONY: deps
deps:
	@scripts/deps.sh

# --- running ----------------------------------------------------------------
# make can only exit 0 or 2: hv-qemu's last line names hv's own status
# (README, "Running in QEMU").
# make run boots SMP (default 4) CPUs, each on a host thread of its own
# (multi-threaded TCG) unless ICOUNT=1; make trace and make debug boot one
# unless SMP is given on the command line or in the environment.
RUN_SMP = $(if $(filter command line environment,$(origin SMP)),$(SMP),1)
RUNNER_ARGS = --esp $(ESP_IMG) --mem $(MEM) --machine $(MACHINE) --cpu $(CPU) \
	--display $(QEMU_DISPLAY) $(foreach a,$(QEMU_ARGS),--qemu-arg $(a))

.PHONY: run
run: deps
	@$(MAKE) --no-print-directory all
	scripts/hv-qemu $(RUNNER_ARGS) --smp $(SMP) --workdir $(RUN_DIR) --timeout $(TIMEOUT) \
		$(if $(filter 1,$(ICOUNT)),--icount,--mttcg)

# make trace: a run with hv's event trace on (hv.cfg trace = yes; by default
# the example partition schedule, guest/examples/partition.cfg), its serial
# log in $(TRACE_DIR)/serial.log and the timeline in $(TRACE_DIR)/trace.html
# (scripts/hv-trace; docs/trace.md), then the partition-window check. Under
# -icount by default (TRACE_ICOUNT=0: wall-clock time), so the picture is
# hv's and not the host's load: without it QEMU's timer interrupts come
# late when the host is busy, and a window's end with them.
TRACE_CFG ?= guest/examples/partition.cfg
TRACE_ICOUNT ?= 1
TRACE_DIR ?= $(BUILD)/trace
.PHONY: trace
trace: deps
	@$(MAKE) --no-print-directory all HV_CFG=$(TRACE_CFG)
	@mkdir -p $(TRACE_DIR)
	set -o pipefail; scripts/hv-qemu $(RUNNER_ARGS) --smp $(RUN_SMP) --workdir $(TRACE_DIR)/run --timeout $(TIMEOUT) \
		--cfg 'trace = yes' $(if $(filter 1,$(TRACE_ICOUNT)),--icount) | tee $(TRACE_DIR)/serial.log
	scripts/hv-trace $(TRACE_DIR)/serial.log > $(TRACE_DIR)/trace.html
	scripts/hv-trace --check $(TRACE_DIR)/serial.log
	@echo "make trace: the timeline is $(TRACE_DIR)/trace.html"

# gdb on the core, which is linked at a fixed address: its symbols are right
# as they are. QEMU waits for gdb; `continue` boots; quitting gdb stops QEMU.
.PHONY: debug
debug: deps all
	scripts/hv-debug --elf $(BUILD)/hv-core.elf --port $(GDB_PORT) --workdir $(DEBUG_DIR) \
		--timeout $(DEBUG_TIMEOUT) -- $(RUNNER_ARGS) --smp $(RUN_SMP)

# --- tests ------------------------------------------------------------------
UNIT_TESTS :=
include $(wildcard tests/unit/*.mk)
UNIT_CFLAGS := -std=gnu11 $(WARN) -g -O1 -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -I.
UNIT_BINS := $(patsubst %,$(BUILD)/unit/%,$(UNIT_TESTS))

# Every header a unit test may include: one command compiles all of a
# test's sources, so a header change must rebuild them (no .d files here).
UNIT_HEADERS := $(shell find include hv vcpu guest-loader lib efi tools tests/unit -name '*.h' 2>/dev/null)
define unit_rule
$(BUILD)/unit/$(1): $$($(1)_SRCS) $$(UNIT_HEADERS)
	@mkdir -p $$(@D)
	$$(CC) $$(UNIT_CFLAGS) $$($(1)_CFLAGS) $$($(1)_SRCS) -o $$@
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

$(BUILD)/screentext: tests/tools/screentext.c tests/tools/screen_decode.c hv/console/font8x16.c
	$(CC) -std=gnu11 $(WARN) -O2 -I. $^ -o $@

.PHONY: unit
unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

# make test builds on every core unless make was given -j itself (the
# sanitized unit tests alone are ~70 s of compiling one at a time).
TEST_BUILD_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc))
# OVMF's code images without the TPM probe's ~1.5 s wait in every boot
# (tests/tools/ovmf_no_tpm_wait.py says why and how); the system tests boot
# them. When the tool refuses an image (another OVMF than it knows), it says
# so and the tests boot Debian's.
OVMF_DIR = /usr/share/OVMF
TEST_FIRMWARE_PLAIN = $(BUILD)/ovmf-code-no-tpm-wait.fd
TEST_FIRMWARE = $(TEST_FIRMWARE_PLAIN) $(BUILD)/ovmf-code-secboot-no-tpm-wait.fd
$(BUILD)/ovmf-code-no-tpm-wait.fd: $(OVMF_DIR)/OVMF_CODE_4M.fd tests/tools/ovmf_no_tpm_wait.py
	@mkdir -p $(@D)
	-tests/tools/ovmf_no_tpm_wait.py $< $@
$(BUILD)/ovmf-code-secboot-no-tpm-wait.fd: $(OVMF_DIR)/OVMF_CODE_4M.secboot.fd \
		tests/tools/ovmf_no_tpm_wait.py
	@mkdir -p $(@D)
	-tests/tools/ovmf_no_tpm_wait.py $< $@
# OVMF's variable store after one boot (scripts/booted-vars.sh): the system
# tests boot from copies of it and skip the firmware's first-boot writes.
# Made on the code image above when there is one (a boot without the wait).
BOOTED_VARS = $(BUILD)/ovmf-vars-booted.fd
$(BOOTED_VARS): scripts/booted-vars.sh scripts/hv-qemu | $(ESP_IMG) $(TEST_FIRMWARE)
	scripts/booted-vars.sh $(ESP_IMG) $@ $(wildcard $(TEST_FIRMWARE_PLAIN))

.PHONY: test
test: deps
	@$(MAKE) --no-print-directory $(TEST_BUILD_JOBS) all $(BUILD)/hv-usb.img $(UNIT_BINS) $(BUILD)/screentext \
		$(TEST_GUESTS) $(XEN_PV_TEST_GUESTS) $(TEST_FIRMWARE)
	@$(MAKE) --no-print-directory $(BOOTED_VARS)
	@tests/run-all.sh $(BUILD) $(UNIT_BINS)

# Every system test at SMP TEST_SMP (default 4; issue 13): each boot that
# does not choose its CPUs gets that many (tests/system/harness.py), the
# mitigated pass too. About 30 minutes on a loaded 2-core host; make test
# runs a subset at SMP 4 (run.py --smp4). HV_SYSTEM_ARGS: e.g. -k NAME.
TEST_SMP ?= 4
.PHONY: test-smp
test-smp: deps
	@$(MAKE) --no-print-directory all $(BUILD)/hv-usb.img $(BUILD)/screentext $(TEST_GUESTS) \
		$(XEN_PV_TEST_GUESTS) $(TEST_FIRMWARE)
	@$(MAKE) --no-print-directory $(BOOTED_VARS)
	HV_TEST_SMP=$(TEST_SMP) python3 tests/system/run.py --build $(BUILD) --mitigated --mitigated-all \
		$(HV_SYSTEM_ARGS)

# The ELF validator's fuzz target for longer than make test's brief run, and
# the in-guest hypercall fuzzer (tests/guests/hcall_fuzz.c) for FUZZ_CALLS
# calls in QEMU beside the companion. FUZZ_SEED reproduces a run (the seed
# is printed); FUZZ_PAGE_CAP > 0 caps the pages a memory call names.
FUZZ_SECONDS ?= 600
FUZZ_CALLS ?= 1000000
FUZZ_SEED ?=
FUZZ_PAGE_CAP ?= 0
FUZZ_TIME_LIMIT ?= 900
.PHONY: fuzz
fuzz: deps
	@$(MAKE) --no-print-directory all $(BUILD)/test-guests/hcall-fuzz $(BUILD)/test-guests/companion
	tests/fuzz/run-hcall-fuzz.py --build $(BUILD) --calls $(FUZZ_CALLS) \
		--page-cap $(FUZZ_PAGE_CAP) --time-limit $(FUZZ_TIME_LIMIT) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))
	tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS)
	tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS) xen_elf

# The soak (tests/system/soak.py): 32 guests of several kinds for SOAK_MIN
# minutes, hv's statistics line every SOAK_EVERY seconds, judged for leaks,
# hangs, panics, stalled guests and timer lateness. make test runs 1 minute
# of it (tests/system/soak_cases.py). SOAK_LOG: the serial log, kept updated.
SOAK_MIN ?= 60
SOAK_EVERY ?= 60
SOAK_LOG ?=
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory all $(BUILD)/test-guests/soak $(BUILD)/test-guests/hcall-fuzz
	tests/system/soak.py --build $(BUILD) --minutes $(SOAK_MIN) --every $(SOAK_EVERY) \
		$(if $(SOAK_LOG),--log $(SOAK_LOG))

.PHONY: clean
clean:
	rm -rf $(BUILD)

.PHONY: help
help:
	@echo "make deps    install what is missing (Debian packages)"
	@echo "make         build build/hv.efi and the ESP (build/esp/, build/esp.img)"
	@echo "make disk-image  build/hv-usb.img: a GPT disk with a FAT32 ESP, for dd onto a USB stick"
	@echo "make usb DEV=/dev/sdX  write that image to a USB stick (checks it, asks first unless YES=1)"
	@echo "make run     boot it in QEMU + OVMF (IMAGES SMP MEM MACHINE CPU QEMU_DISPLAY ICOUNT TIMEOUT QEMU_ARGS)"
	@echo "make test    unit and system tests; ends with 'N passed, N failed'"
	@echo "make test-smp  every system test at SMP TEST_SMP (default 4)"
	@echo "make debug   QEMU waiting for gdb, gdb attached with the core's symbols"
	@echo "make trace   a traced run of the partition example (TRACE_CFG) drawn in build/trace/trace.html"
	@echo "make fuzz    fuzz hypercalls in a guest (FUZZ_CALLS, default 1 M) and the image validator (FUZZ_SECONDS, default 600)"
	@echo "make sign   sign hv.efi for Secure Boot: KEY=db.key CERT=db.pem (build/hv-signed.efi, build/esp-signed.img)"
	@echo "make HV_POLICY=file [sign ...]  build in the SHA-256 of every image that may run; others are refused"
	@echo "make soak    32 guests for SOAK_MIN minutes (default 60), judged for leaks, hangs and lateness (SOAK_EVERY, SOAK_LOG)"
	@echo "make bench   instruction counts of hv's paths under QEMU -icount (docs/benchmarks.md)"
	@echo "make sdk     the guest SDK in build/sdk/ (make install-sdk PREFIX=dir copies it; docs/writing-guests.md)"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
