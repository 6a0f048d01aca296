UNIT_TESTS += memmap_random
memmap_random_SRCS := tests/unit/test_memmap_random.c hv/mm/memmap.c
