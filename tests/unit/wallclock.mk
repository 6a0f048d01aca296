UNIT_TESTS += wallclock
wallclock_SRCS := tests/unit/test_wallclock.c hv/time/wallclock.c
