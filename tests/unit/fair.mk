UNIT_TESTS += fair
fair_SRCS := tests/unit/test_fair.c hv/sched/fair.c
