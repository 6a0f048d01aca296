UNIT_TESTS += uaccess_walk
uaccess_walk_SRCS := tests/unit/test_uaccess_walk.c hv/guest/uaccess.c hv/mm/pagetable.c hv/mm/pt_bounded.c
