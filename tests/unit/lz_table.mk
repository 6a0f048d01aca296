UNIT_TESTS += lz_table lz_table_rep_movsb
# The decoding tables' streams by hand (tests/unit/test_lz_table.c), with the
# portable copies and with the stub's string instructions.
lz_table_SRCS := tests/unit/test_lz_table.c lib/lz_unpack.c
lz_table_CFLAGS := -DLZ_PORTABLE_COPY
lz_table_rep_movsb_SRCS := tests/unit/test_lz_table.c lib/lz_unpack.c
