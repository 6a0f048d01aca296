UNIT_TESTS += trace
trace_SRCS := tests/unit/test_trace.c hv/debug/trace_rec.c lib/fmt.c
