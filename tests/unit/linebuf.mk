UNIT_TESTS += linebuf
linebuf_SRCS := tests/unit/test_linebuf.c hv/console/linebuf.c
