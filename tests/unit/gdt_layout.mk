UNIT_TESTS += gdt_layout
gdt_layout_SRCS := tests/unit/test_gdt_layout.c hv/cpu/gdt_layout.c
