UNIT_TESTS += fmt
fmt_SRCS := tests/unit/test_fmt.c lib/fmt.c
