UNIT_TESTS += xen_elf
xen_elf_SRCS := tests/unit/test_xen_elf.c hv/xen/xen_elf.c guest-loader/elf_header.c guest-loader/elf_file.c guest-loader/elf_note_walk.c lib/fmt.c
