UNIT_TESTS += smp_rules
smp_rules_SRCS := tests/unit/test_smp_rules.c hv/cpu/smp_rules.c hv/cpu/mitigation_rules.c lib/fmt.c
