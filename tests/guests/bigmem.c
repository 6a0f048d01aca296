/* Asks for 1 TiB of memory in its note: hv must refuse to start it, so
 * nothing below should ever run. */
#include "hvg.h"

HV_GUEST_NOTE("bigmem", HVG_GIB(1024), 1, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    hvg_printf("bigmem: FAILED: started with %llu MiB although 1 TiB was asked for\n",
               (unsigned long long)(si->memory_bytes >> 20));
    return 1;
}
