/* hello as a static-pie (ET_DYN): hv loads it at 0x400000 and applies its
 * R_X86_64_RELATIVE relocations. The tables below hold absolute addresses,
 * which is what makes the relocations exist: printing through them proves
 * hv applied them. They are global and writable so the compiler cannot fold
 * them into direct references. */
#include "hvg.h"

HV_GUEST_NOTE("hello-pie", 0, 1, 0);

const char *words[] = { "Hello", ", ", "world" };

static void say_name(const struct hv_guest_info *info, unsigned vcpu)
{
    hvg_printf("hello-pie: I am \"%.32s\", guest %u, vCPU %u of %u, %llu KiB of memory\n",
               info->name, info->guest_id, vcpu, info->vcpu_count,
               (unsigned long long)(info->memory_bytes >> 10));
}

static void say_abi(const struct hv_guest_info *info, unsigned vcpu)
{
    (void)vcpu;
    hvg_printf("hello-pie: ABI version %u, %u guest(s) running\n",
               info->abi_version, info->guests_running);
}

void (*steps[])(const struct hv_guest_info *, unsigned) = { say_name, say_abi };

static int inside_image(const struct hv_start_info *si, const void *p)
{
    uint64_t a = (uint64_t)(uintptr_t)p;
    return a >= si->image_start && a < si->image_end;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    struct hv_guest_info info;

    /* Unrelocated, these would be small link-time offsets from 0. */
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (!inside_image(si, words[i])) {
            hvg_printf("hello-pie: words[%zu] = %p is outside the image: not relocated\n",
                       i, (const void *)words[i]);
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (!inside_image(si, (const void *)(uintptr_t)steps[i])) {
            hvg_printf("hello-pie: steps[%zu] is outside the image: not relocated\n", i);
            return 1;
        }
    }

    hvg_printf("%s%s%s\n", words[0], words[1], words[2]);
    int64_t r = hvg_guest_info(&info);
    if (r < 0) {
        hvg_printf("hello-pie: guest_info failed: %lld\n", (long long)r);
        return 1;
    }
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        steps[i](&info, vcpu);
    hvg_printf("hello-pie: loaded at %#llx (main at %p)\n",
               (unsigned long long)si->image_start, (void *)(uintptr_t)main);
    return 0;
}
