UNIT_TESTS += trap_table
trap_table_SRCS := tests/unit/test_trap_table.c vcpu/trap_table.c
