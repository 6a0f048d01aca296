UNIT_TESTS += guest_frames
guest_frames_SRCS := tests/unit/test_guest_frames.c hv/mm/guest_frames.c
guest_frames_CFLAGS := -pthread
