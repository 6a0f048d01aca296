UNIT_TESTS += placement
placement_SRCS := tests/unit/test_placement.c hv/sched/placement.c hv/sched/fair.c
