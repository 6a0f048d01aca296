UNIT_TESTS += guest_switch
guest_switch_SRCS := tests/unit/test_guest_switch.c
