/* Xen-ABI test guest: its own GDT entries while its vCPU moves between
 * CPUs (tests/system/xen4_cases.py: SMP 2, beside two `duty` guests
 * pinned to CPU 0 and CPU 1 that leave one CPU idle in turn, so the
 * balancer hands this CPU-bound vCPU to the other CPU every phase).
 *
 * hv installs entries 8-15 of its first GDT frame into page 0 of the GDT
 * window of the CPU it is loaded on, and copies them at vcpu_load when
 * that CPU's version differs from the vCPU's (hv/xen/xen_gdt.c). Here,
 * for RUN_MS of system time, it rewrites entry 10 (a ring-3 data segment)
 * with a new limit every round, by update_descriptor, and every 16th
 * round by a fresh set_gdt; loads ES from it; sets a new FS base
 * (set_segment_base or wrmsr, in turn); then spins a while reading the
 * entry back with `lsl` (the limit the CPU it runs on holds), ES, and the
 * word at %fs:0 (which slot the CPU's FS base names). A CPU that kept an
 * older copy of its entries shows an older limit; one without them makes
 * hv's own reload of ES fault; one with another vCPU's FS base (or 0)
 * reads another word. Prints
 *
 *     xen-gdt-move: N rounds, M reads, W wrong
 *
 * and its checks, then shuts down (poweroff). */
#include "tests/guests/xen/xen_events.h"

#define RUN_MS 700
#define SEL_OWN 0x53 /* entry 10, RPL 3 */
#define ROUND_US 200

static uint64_t gdt[512] __attribute__((aligned(4096)));
/* FS bases it moves between: slot k holds FS_MARK + k, so %fs:0 says which
 * base the CPU holds. */
#define FS_SLOTS 64
#define FS_MARK 0x5eed0000u
static uint64_t fs_slot[FS_SLOTS];

static uint64_t data_with_limit(uint32_t limit) /* limit: 20 bits, byte-granular */
{
    return 0x0040f20000000000ULL | (limit & 0xffff) | ((uint64_t)(limit >> 16 & 0xf) << 48);
}

static uint32_t cpu_limit(void)
{
    uint32_t limit = 0;
    __asm__ volatile("lsl %w1, %0" : "+r"(limit) : "r"((uint16_t)SEL_OWN) : "cc");
    return limit;
}

static uint16_t es(void)
{
    return SEG_SELECTOR(es);
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    check(events_setup(si), "shared info mapped (system time)", "refused");
    uint64_t frame = (uint64_t)gdt >> 12;
    gdt[10] = data_with_limit(1);
    check(hcall(XEN_HC_set_gdt, (uint64_t)&frame, 16, 0) == 0 && cpu_limit() == 1, "set_gdt of its table",
          "refused or limit 0x%x", cpu_limit());
    for (unsigned k = 0; k < FS_SLOTS; k++)
        fs_slot[k] = FS_MARK + k;
    unsigned rounds = 0, reads = 0, wrong = 0, refused = 0;
    uint32_t first_wrong = 0, want_then = 0;
    uint64_t end = now_ns() + RUN_MS * MS;
    /* Its own run of limits (three copies boot side by side): from its start time. */
    for (uint32_t limit = (uint32_t)(now_ns() / 1000) & 0xfffff; now_ns() < end;
         limit = (limit + 1) & 0xfffff) {
        long rc;
        if (limit % 16 == 0) {
            gdt[10] = data_with_limit(limit);
            rc = hcall(XEN_HC_set_gdt, (uint64_t)&frame, 16, 0);
        } else {
            rc = hcall(XEN_HC_update_descriptor, (frame << 12) + 10 * 8, data_with_limit(limit), 0);
        }
        refused += rc != 0;
        __asm__ volatile("mov %w0, %%es" : : "r"((uint16_t)SEL_OWN));
        /* A new FS base each round: by set_segment_base, or by wrmsr (hv
         * emulates it at its #GP; the trap table is not needed). */
        uint64_t slot = limit % FS_SLOTS, base = (uint64_t)&fs_slot[slot];
        if (limit % 2) {
            rc = hcall(XEN_HC_set_segment_base, XEN_SEGBASE_FS, base, 0);
        } else {
            rc = 0;
            __asm__ volatile("wrmsr" : : "c"(0xc0000100u), "a"((uint32_t)base), "d"((uint32_t)(base >> 32)));
        }
        refused += rc != 0;
        rounds++;
        uint64_t until = now_ns() + ROUND_US * 1000;
        do {
            uint32_t got = cpu_limit();
            reads++;
            if (got != limit || es() != SEL_OWN || fs_word() != FS_MARK + slot) {
                if (!wrong++) {
                    first_wrong = got;
                    want_then = limit;
                }
            }
        } while (now_ns() < until);
    }
    __asm__ volatile("mov %w0, %%es" : : "r"((uint16_t)0));
    hcall(XEN_HC_set_segment_base, XEN_SEGBASE_FS, 0, 0);
    xprint("xen-gdt-move: %u rounds, %u reads, %u wrong\n", rounds, reads, wrong);
    check(!refused, "every update_descriptor and set_gdt taken", "%u refused", refused);
    check(!wrong && rounds > 100, "every read saw the newest entry on the CPU it ran on",
          "%u wrong, the first limit 0x%x for 0x%x (es 0x%x, fs word 0x%lx)", wrong, first_wrong, want_then,
          es(), (unsigned long)fs_word());
    xprint("xen-gdt-move: all %u checks, %u failed\n", checks_run, checks_failed);
    shutdown(XEN_SHUTDOWN_poweroff);
}
