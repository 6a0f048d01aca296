UNIT_TESTS += xen_echo
xen_echo_SRCS := tests/unit/test_xen_echo.c
