/* Start-info access and assertions for guests. */
#include "hvg.h"

_Static_assert(HV_CALL_EXIT == 1 && HV_CALL_VCPU_EXIT == 5,
               "guest/lib/start.S hard-codes these hypercall numbers");

/* Set by _start (guest/lib/start.S) before main runs. */
const struct hv_start_info *hvg_start_info_ptr;

const struct hv_start_info *hvg_start_info(void)
{
    return hvg_start_info_ptr;
}

void hvg_assert_fail(const char *expr, const char *file, int line, const char *function)
{
    hvg_printf("assertion failed: %s at %s:%d (%s)\n", expr, file, line, function);
    hvg_exit(HVG_ASSERT_STATUS);
}
