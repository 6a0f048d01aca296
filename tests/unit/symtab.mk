UNIT_TESTS += symtab
symtab_SRCS := tests/unit/test_symtab.c hv/debug/symtab.c tools/symtab_enc.c
