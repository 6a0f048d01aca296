UNIT_TESTS += keymap
keymap_SRCS := tests/unit/test_keymap.c hv/console/keymap.c
