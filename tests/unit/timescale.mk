UNIT_TESTS += timescale
timescale_SRCS := tests/unit/test_timescale.c hv/time/timescale.c
