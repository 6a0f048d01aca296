UNIT_TESTS += restart_policy
restart_policy_SRCS := tests/unit/test_restart_policy.c hv/guest/restart_policy.c hv/config/config.c lib/fmt.c
