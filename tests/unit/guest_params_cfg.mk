UNIT_TESTS += guest_params_cfg
guest_params_cfg_SRCS := tests/unit/test_guest_params_cfg.c guest-loader/guest_params.c guest-loader/guest_sections.c hv/sched/placement.c hv/guest/restart_policy.c hv/config/config.c lib/fmt.c
