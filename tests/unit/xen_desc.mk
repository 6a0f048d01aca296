UNIT_TESTS += xen_desc
xen_desc_SRCS := tests/unit/test_xen_desc.c
