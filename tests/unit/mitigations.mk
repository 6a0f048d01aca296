UNIT_TESTS += mitigations
mitigations_SRCS := tests/unit/test_mitigations.c hv/cpu/mitigation_rules.c lib/fmt.c
