UNIT_TESTS += evtchn
evtchn_SRCS := tests/unit/test_evtchn.c hv/event/evtchn.c hv/event/evtchn_send.c tests/unit/host_relax.c
# Host shims: the statistics counters as one set, the hand-off's calls
# as stubs (hv/sched/handoff.h), no interrupt flag to
# clear, threads for CPUs whose lock waiters yield (host_relax.h).
evtchn_CFLAGS := -DSTATS_HOST_COUNTERS -DHANDOFF_HOST -DSPIN_HOST -pthread -include tests/unit/host_relax.h
