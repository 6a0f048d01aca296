UNIT_TESTS += shared_layout
shared_layout_SRCS := tests/unit/test_shared_layout.c
