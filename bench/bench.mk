# Benchmark guests of `make bench` (bench/run.py boots them; docs/benchmarks.md
# says what each figure measures). Included by the top-level Makefile after
# guest/guest.mk, whose guest_image machinery builds them, and after
# CORE_CFLAGS, which bench_workload is compiled with.
#
# Every bench/guests/NAME.c becomes $(BUILD)/bench-guests/NAME ('_' -> '-').
# bench-main also links its figures, bench/guests/main/*.c (one file per
# group of figures), and lib/bench_work.c, compiled with the core's flags;
# bench-scale (smp_scaling_pct) links the same lib/bench_work.c object.

BENCH_GUEST_DIR := $(BUILD)/bench-guests
BENCH_GUEST_SRCS := $(sort $(wildcard bench/guests/*.c))
BENCH_GUESTS := $(foreach s,$(BENCH_GUEST_SRCS),$(BENCH_GUEST_DIR)/$(call guest_name,$(s)))

# cpu_overhead_pct compares hv running bench_workload natively with a guest
# running it, so the guest's copy must be the same machine code: the same
# source compiled with exactly $(CORE_CFLAGS) (-mcmodel=kernel code runs
# fine below 2 GiB: its absolute addresses are sign-extended 32-bit ones).
# The recipe then checks, instruction by instruction and relocation by
# relocation, that the object matches the core's own, and fails if not.
BENCH_WORK_OBJ := $(BENCH_GUEST_DIR)/obj/bench_work.o
BENCH_CORE_WORK_OBJ := $(BUILD)/core/lib/bench_work.c.o

$(BENCH_WORK_OBJ): lib/bench_work.c $(BENCH_CORE_WORK_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -c $< -o $@
	@cmp -s <(objdump -d -r $(BENCH_CORE_WORK_OBJ) | tail -n +3) \
		<(objdump -d -r $@ | tail -n +3) || \
		{ echo "bench: $@ differs from $(BENCH_CORE_WORK_OBJ) in machine code" >&2; \
		  rm -f $@; exit 1; }

BENCH_MAIN_PART_OBJS := $(patsubst bench/guests/main/%.c,$(BENCH_GUEST_DIR)/obj/main/%.o,\
	$(sort $(wildcard bench/guests/main/*.c)))
$(BENCH_GUEST_DIR)/obj/main/%.o: bench/guests/main/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_EXEC_CFLAGS) -MMD -MP -c $< -o $@

$(foreach s,$(BENCH_GUEST_SRCS),$(call guest_image,$(BENCH_GUEST_DIR)/$(call guest_name,$(s)),$(s),,$(if $(filter %/bench_main.c,$(s)),$(BENCH_MAIN_PART_OBJS) $(BENCH_WORK_OBJ))$(if $(filter %/bench_scale.c,$(s)),$(BENCH_WORK_OBJ))))

.PHONY: bench-guests
bench-guests: $(BENCH_GUESTS)

# `make bench` measures under -icount (exact instruction counts) unless the
# command line or the environment sets ICOUNT; ICOUNT=0 runs on wall-clock
# time. The top-level ICOUNT ?= 0 is `make run`'s default, not ours.
BENCH_ICOUNT := $(if $(filter file undefined,$(origin ICOUNT)),1,$(ICOUNT))
BENCH_RUN_ARGS := --build $(BUILD) --icount $(BENCH_ICOUNT)
