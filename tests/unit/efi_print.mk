UNIT_TESTS += efi_print
# efi/efi_lib.c against a fake firmware console, with the stub's EFI flags.
efi_print_SRCS := tests/unit/test_efi_print.c efi/efi_lib.c
efi_print_CFLAGS := -fshort-wchar -DGNU_EFI_USE_MS_ABI -isystem /usr/include/efi \
	-isystem /usr/include/efi/x86_64
