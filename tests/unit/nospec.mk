UNIT_TESTS += nospec
nospec_SRCS := tests/unit/test_nospec.c
