UNIT_TESTS += deliver_limit
deliver_limit_SRCS := tests/unit/test_deliver_limit.c
