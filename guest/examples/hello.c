/* The smallest useful guest: greets, says who it is, exits 0. */
#include "hvg.h"

/* Name and resources as hv should give them; 0 = hv's default. */
HV_GUEST_NOTE("hello", 0, 1, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    struct hv_guest_info info;

    hvg_puts("Hello, world");
    int64_t r = hvg_guest_info(&info);
    if (r < 0) {
        hvg_printf("hello: guest_info failed: %lld\n", (long long)r);
        return 1;
    }
    hvg_printf("hello: I am \"%.32s\", guest %u, vCPU %u of %u, %llu KiB of memory\n",
               info.name, info.guest_id, vcpu, info.vcpu_count,
               (unsigned long long)(info.memory_bytes >> 10));
    hvg_printf("hello: ABI version %u, %u guest(s) running, image at %#llx-%#llx\n",
               info.abi_version, info.guests_running,
               (unsigned long long)si->image_start, (unsigned long long)si->image_end);
    return 0;
}
