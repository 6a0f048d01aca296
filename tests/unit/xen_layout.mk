UNIT_TESTS += xen_layout
xen_layout_SRCS := tests/unit/test_xen_layout.c hv/xen/xen_layout.c hv/xen/xen_hcpage.c lib/fmt.c lib/string.c
