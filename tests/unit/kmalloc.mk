UNIT_TESTS += kmalloc
kmalloc_SRCS := tests/unit/test_kmalloc.c hv/mm/kmalloc.c
