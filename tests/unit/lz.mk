UNIT_TESTS += lz lz_rep_movsb lz_hand lz_hand_rep_movsb branch_filter branch_filter_portable
# Twice: with the byte loop the sanitizers see into, and with the stub's
# `rep movsb` (inline assembly, which they do not instrument).
lz_SRCS := tests/unit/test_lz.c lib/lz_unpack.c tools/lz_pack.c tools/lz_parse.c
lz_CFLAGS := -DLZ_PORTABLE_COPY
lz_rep_movsb_SRCS := tests/unit/test_lz.c lib/lz_unpack.c tools/lz_pack.c tools/lz_parse.c
lz_hand_SRCS := tests/unit/test_lz_hand.c lib/lz_unpack.c tools/lz_pack.c tools/lz_parse.c
lz_hand_CFLAGS := -DLZ_PORTABLE_COPY
lz_hand_rep_movsb_SRCS := $(lz_hand_SRCS)
# The branch filter twice too: with SSE2, as the stub builds it, and with
# the portable mask.
branch_filter_SRCS := tests/unit/test_branch_filter.c lib/branch_filter.c lib/lz_unpack.c \
	tools/lz_pack.c tools/lz_parse.c
branch_filter_portable_SRCS := $(branch_filter_SRCS)
branch_filter_portable_CFLAGS := -DBRANCH_FILTER_PORTABLE
