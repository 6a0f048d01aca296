UNIT_TESTS += partition
partition_SRCS := tests/unit/test_partition.c hv/sched/partition.c hv/config/config.c lib/fmt.c
