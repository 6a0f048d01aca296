UNIT_TESTS += extable
extable_SRCS := tests/unit/test_extable.c hv/cpu/extable_search.c
