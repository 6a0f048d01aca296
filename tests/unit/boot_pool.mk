UNIT_TESTS += boot_pool
boot_pool_SRCS := tests/unit/test_boot_pool.c efi/memmap_convert.c
