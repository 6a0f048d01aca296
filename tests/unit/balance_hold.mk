UNIT_TESTS += balance_hold
# balance.c whole, this_cpu() through the host thread's GS base (arch_prctl).
balance_hold_SRCS := tests/unit/test_balance_hold.c hv/sched/balance.c hv/sched/placement.c \
	hv/sched/fair.c
