UNIT_TESTS += efi_memmap
efi_memmap_SRCS := tests/unit/test_efi_memmap.c efi/memmap_convert.c
