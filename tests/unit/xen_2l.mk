UNIT_TESTS += xen_2l
xen_2l_SRCS := tests/unit/test_xen_2l.c
