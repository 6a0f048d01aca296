UNIT_TESTS += lz lz_rep_movsb
# Twice: with the byte loop the sanitizers see into, and with the stub's
# `rep movsb` (inline assembly, which they do not instrument).
lz_SRCS := tests/unit/test_lz.c lib/lz_unpack.c tools/lz_pack.c
lz_CFLAGS := -DLZ_PORTABLE_COPY
lz_rep_movsb_SRCS := tests/unit/test_lz.c lib/lz_unpack.c tools/lz_pack.c
