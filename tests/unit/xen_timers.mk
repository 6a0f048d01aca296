UNIT_TESTS += xen_timers
xen_timers_SRCS := tests/unit/test_xen_timers.c
