UNIT_TESTS += guest_params
guest_params_SRCS := tests/unit/test_guest_params.c guest-loader/guest_params.c guest-loader/guest_sections.c hv/sched/placement.c hv/guest/restart_policy.c hv/config/config.c lib/fmt.c
