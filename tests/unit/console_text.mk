UNIT_TESTS += console_text
console_text_SRCS := tests/unit/test_console_text.c hv/console/console_text.c
