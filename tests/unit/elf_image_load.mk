UNIT_TESTS += elf_image_load
elf_image_load_SRCS := tests/unit/test_elf_image_load.c guest-loader/elf_image.c guest-loader/elf_header.c guest-loader/elf_file.c guest-loader/elf_dynamic.c guest-loader/elf_note.c guest-loader/elf_note_walk.c guest-loader/elf_relocate.c lib/fmt.c
