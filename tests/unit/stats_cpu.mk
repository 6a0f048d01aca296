UNIT_TESTS += stats_cpu
stats_cpu_SRCS := tests/unit/test_stats_cpu.c hv/debug/stats_cpu.c
