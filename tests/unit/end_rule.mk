UNIT_TESTS += end_rule
end_rule_SRCS := tests/unit/test_end_rule.c hv/power/end_rule.c
