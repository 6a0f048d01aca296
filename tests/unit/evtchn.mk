UNIT_TESTS += evtchn
evtchn_SRCS := tests/unit/test_evtchn.c hv/event/evtchn.c
evtchn_CFLAGS := -DSTATS_HOST_COUNTERS -DSPIN_HOST
