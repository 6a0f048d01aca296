UNIT_TESTS += spinlock
spinlock_SRCS := tests/unit/test_spinlock.c
spinlock_CFLAGS := -pthread
