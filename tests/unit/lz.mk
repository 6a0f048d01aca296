UNIT_TESTS += lz lz_rep_movsb lz_hand lz_hand_rep_movsb branch_filter branch_filter_portable
# Twice: with the byte loop the sanitizers see into, and with the stub's
# `rep movsb` (inline assembly, which they do not instrument).
lz_SRCS := tests/unit/test_lz.c lib/lz_unpack.c tools/lz_pack.c tools/lz_parse.c
lz_CFLAGS := -DLZ_PORTABLE_COPY
lz_hand_SRCS := tests/unit/test_lz_hand.c lib/lz_unpack.c tools/lz_pack.c tools/lz_parse.c
lz_hand_CFLAGS := -DLZ_PORTABLE_COPY
# The packer as the build's tools are, without the sanitizers, for the tests
# whose subject is not the packer (the decoder's other copy, the branch
# filter): lz and lz_hand run it under them on the same inputs, and a
# deterministic packer that UBSan passes packs them alike at -O2. It is
# most of their time (lz_rep_movsb: 40 s of packing under the sanitizers).
LZ_HOST_PACKER := $(BUILD)/unit/lz_packer.o
$(LZ_HOST_PACKER): tools/lz_pack.c tools/lz_parse.c tools/lz_pack.h tools/lz_parse.h lib/lz.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -O2 -I. -r -nostdlib $(filter %.c,$^) -o $@
lz_rep_movsb_SRCS := tests/unit/test_lz.c lib/lz_unpack.c $(LZ_HOST_PACKER)
lz_hand_rep_movsb_SRCS := tests/unit/test_lz_hand.c lib/lz_unpack.c $(LZ_HOST_PACKER)
# The branch filter twice too: with SSE2, as the stub builds it, and with
# the portable mask.
branch_filter_SRCS := tests/unit/test_branch_filter.c lib/branch_filter.c lib/lz_unpack.c \
	$(LZ_HOST_PACKER)
branch_filter_portable_SRCS := $(branch_filter_SRCS)
branch_filter_portable_CFLAGS := -DBRANCH_FILTER_PORTABLE
