UNIT_TESTS += config_values
config_values_SRCS := tests/unit/test_config_values.c hv/config/config.c
