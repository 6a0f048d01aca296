UNIT_TESTS += pagetable
pagetable_SRCS := tests/unit/test_pagetable.c hv/mm/pagetable.c hv/mm/pt_bounded.c
