UNIT_TESTS += pt_isolated
pt_isolated_SRCS := tests/unit/test_pt_isolated.c hv/mm/pagetable.c hv/mm/pt_bounded.c
