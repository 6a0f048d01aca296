UNIT_TESTS += pt_bounded
pt_bounded_SRCS := tests/unit/test_pt_bounded.c hv/mm/pagetable.c hv/mm/pt_bounded.c
