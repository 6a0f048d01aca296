UNIT_TESTS += pagetable
pagetable_SRCS := tests/unit/test_pagetable.c hv/mm/pagetable.c
