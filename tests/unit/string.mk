UNIT_TESTS += string
string_SRCS := tests/unit/test_string.c lib/string.c
string_CFLAGS := -DLIB_STRING_TEST_PREFIX
