UNIT_TESTS += lock_order
lock_order_SRCS := tests/unit/test_lock_order.c
lock_order_CFLAGS := -DSPIN_HOST
