UNIT_TESTS += fair_sim
fair_sim_SRCS := tests/unit/test_fair_sim.c hv/sched/fair.c
