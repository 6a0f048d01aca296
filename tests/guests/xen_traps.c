/* Xen-ABI test guest: the paravirtual CPU and memory a Xen PV kernel
 * uses at start of day (what XTF's and Mini-OS's boot code call), each
 * checked from inside: the trap table and Xen's bounce frame (rcx, r11,
 * [error code], rip, cs with the saved upcall mask in bits 32-39, rflags,
 * rsp, ss) with HYPERVISOR_iret back; the forced-emulation prefix before
 * cpuid (Xen's leaves included) and before anything else (#UD at the
 * ud2); `mov %crN` emulated; update_va_mapping (map the shared-info page,
 * unmap and remap a page, read-only remaps, refusals); the M2P table read
 * at MACH2PHYS_VIRT_START; mmuext_op with a continued batch; the PV
 * console ring, printed once even when console_io printed the same bytes;
 * callback_op and set_trap_table refusals. */
#include "tests/guests/xen/xen_guest.h"

#include "lib/fmt.h"
#include "lib/string.h"

#define PAGE 4096ULL
#define NOWHERE 0x00007f0000000000ULL

extern char ud2_here[], fep_not_cpuid_ud2[];
int ud2_keeps_rcx_r11(void);
void fep_not_cpuid(void);
void fep_cpuid(uint32_t leaf, uint32_t out[4]);
uint64_t read_cr3(void), read_cr3_r9(void), read_cr0(void), read_cr2(void);

/* A whole page: update_va_mapping puts the shared-info frame here. */
static union {
    struct xen_shared_info s;
    char page[4096];
} shared_space __attribute__((aligned(4096)));
#define shared_page shared_space.s
static volatile uint64_t spare_page[512] __attribute__((aligned(4096))) = {0x5151};
static volatile uint64_t ro_page[512] __attribute__((aligned(4096))) = {0x7777};
/* Code written at run time: a `mov %cr0` in the last 3 bytes of the first
 * page, the second page unmapped. */
static uint8_t code_pages[2][4096] __attribute__((aligned(4096)));

static long uva(uint64_t va, uint64_t val)
{
    return hcall(XEN_HC_update_va_mapping, va, val, 2 /* UVMF_INVLPG */);
}

/* Reads va; a #PF resumes at the label and is counted. */
static uint64_t probe_read(uint64_t va, int *faulted)
{
    uint64_t before = trap_count, value = 0;
    __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, trap_resume\n\t"
                     "mov (%1), %0\n1:"
                     : "+r"(value) : "r"(va) : "rax", "memory");
    *faulted = trap_count != before;
    trap_resume = 0;
    return value;
}

static int probe_write(uint64_t va, uint64_t value)
{
    uint64_t before = trap_count;
    __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, trap_resume\n\t"
                     "mov %0, (%1)\n1:"
                     : : "r"(value), "r"(va) : "rax", "memory");
    trap_resume = 0;
    return trap_count != before;
}

static uint64_t guest_l1(const struct xen_start_info *si, uint64_t va)
{
    uint64_t table = si->pt_base;
    for (int l = 4; l > 1; l--) {
        uint64_t e = ((volatile uint64_t *)table)[(va >> (12 + 9 * (l - 1))) & 511];
        if (!(e & 1))
            return 0;
        table = e & 0x000ffffffffff000ULL;
    }
    return ((volatile uint64_t *)table)[(va >> 12) & 511];
}

static void traps_and_iret(void)
{
    static struct xen_trap_info table[] = {TRAP_UD_GP_PF, TRAP_ENTRY(3, 3, trap_bp), TRAP_END};
    check(hcall(XEN_HC_set_trap_table, (uint64_t)table, 0, 0) == 0, "set_trap_table", "refused");
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    int kept = ud2_keeps_rcx_r11();
    check(trap_vector == 6 && trap_seen_count == 7, "#UD bounced to the trap table",
          "vector %lu, %lu words", (unsigned long)trap_vector, (unsigned long)trap_seen_count);
    check(trap_seen[0] == 0x0123456789abcdefULL && trap_seen[1] == 0xfedcba9876543210ULL,
          "bounce frame: rcx and r11 first", "0x%lx 0x%lx", (unsigned long)trap_seen[0],
          (unsigned long)trap_seen[1]);
    check(trap_seen[2] == (uint64_t)ud2_here, "bounce frame: rip at the ud2", "0x%lx",
          (unsigned long)trap_seen[2]);
    check(trap_seen[3] == (0xe030 | (1ULL << 32)), "bounce frame: cs 0xe030, upcall mask 1 in bits 32-39",
          "0x%lx", (unsigned long)trap_seen[3]);
    check(!(trap_seen[4] & (1u << 9)), "bounce frame: rflags IF = !upcall mask", "0x%lx",
          (unsigned long)trap_seen[4]);
    check(trap_seen[5] < rsp && rsp - trap_seen[5] < 64 && trap_seen[6] == 0xe02b,
          "bounce frame: the interrupted rsp, ss 0xe02b", "rsp 0x%lx ss 0x%lx",
          (unsigned long)trap_seen[5], (unsigned long)trap_seen[6]);
    check(kept, "iret restores rcx and r11 from its frame", "changed");
    __asm__ volatile("int3" ::: "memory");
    check(trap_vector == 3, "int3 reaches a DPL-3 #BP entry", "vector %lu",
          (unsigned long)trap_vector);
    fep_not_cpuid();
    check(trap_vector == 6 && trap_seen[2] == (uint64_t)fep_not_cpuid_ud2,
          "the prefix before something else: #UD at the ud2", "vector %lu rip 0x%lx",
          (unsigned long)trap_vector, (unsigned long)trap_seen[2]);
    struct xen_trap_info bad[] = {{6, 0, 0xe033, 0, 0xffff800000001000ULL}, {0, 0, 0, 0, 0}};
    check(hcall(XEN_HC_set_trap_table, (uint64_t)bad, 0, 0) == -XEN_EINVAL,
          "set_trap_table: an upper-half handler -EINVAL", "other");
    check(hcall(XEN_HC_set_trap_table, 0xffff888000000000ULL, 0, 0) == -XEN_EFAULT,
          "set_trap_table: a table in hv -EFAULT", "other");
}

static void emulation(const struct xen_start_info *si)
{
    uint32_t r[4];
    fep_cpuid(0x40000000, r);
    check(r[1] == 0x566e6558 && r[2] == 0x65584d4d && r[3] == 0x4d4d566e && r[0] >= 0x40000002,
          "FEP cpuid 0x40000000: XenVMMXenVMM", "0x%x 0x%x 0x%x 0x%x", r[0], r[1], r[2], r[3]);
    fep_cpuid(0x40000001, r);
    check(r[0] == ((4u << 16) | 17), "FEP cpuid 0x40000001: 4.17", "0x%x", r[0]);
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    fep_cpuid(0, r);
    check(r[0] == a && r[1] == b && r[2] == c && r[3] == d, "FEP cpuid 0: the CPU's vendor",
          "differs");
    check(read_cr3() == si->pt_base, "mov %cr3: the root's machine address", "0x%lx",
          (unsigned long)read_cr3());
    check(read_cr3_r9() == si->pt_base, "mov %cr3, %r9 (REX)", "0x%lx",
          (unsigned long)read_cr3_r9());
    check((read_cr0() & 0x80000001) == 0x80000001, "mov %cr0: PG and PE", "0x%lx",
          (unsigned long)read_cr0());
}

static void memory(const struct xen_start_info *si)
{
    uint64_t shared = (uint64_t)&shared_page;
    check(uva(shared, si->shared_info | 0x3) == 0, "update_va_mapping: the shared-info page",
          "refused");
    check(shared_page.vcpu_info[0].evtchn_upcall_mask == 1, "shared info: events masked at start",
          "mask %u", shared_page.vcpu_info[0].evtchn_upcall_mask);
    check(guest_l1(si, shared) == (si->shared_info | 0x3), "the guest's L1 entry says so", "0x%lx",
          (unsigned long)guest_l1(si, shared));
    int faulted;
    probe_read(NOWHERE, &faulted);
    check(faulted && trap_vector == 14 && trap_seen[2] == 0 /* kernel-mode read, not present */,
          "#PF bounced with Xen's error code (no U bit in kernel mode)", "vector %lu ec 0x%lx", (unsigned long)trap_vector,
          (unsigned long)trap_seen[2]);
    check(shared_page.vcpu_info[0].arch_cr2 == NOWHERE && read_cr2() == NOWHERE,
          "cr2 in vcpu_info.arch and mov %cr2", "0x%lx", (unsigned long)read_cr2());
    uint64_t spare = (uint64_t)spare_page;
    check(uva(spare, 0) == 0 && guest_l1(si, spare) == 0, "update_va_mapping: unmap", "refused");
    probe_read(spare, &faulted);
    check(faulted && (trap_seen[2] & 1) == 0, "an unmapped page faults, not present", "ec 0x%lx",
          (unsigned long)trap_seen[2]);
    check(uva(spare, spare | 0x23) == 0 && probe_read(spare, &faulted) == 0x5151 && !faulted,
          "remapped: the same frame, its contents kept", "faulted %d", faulted);
    uint64_t ro = (uint64_t)ro_page;
    check(uva(ro, ro | 0x21) == 0, "update_va_mapping: read-only", "refused");
    check(probe_write(ro, 1) && (trap_seen[2] & 3) == 3 && ro_page[0] == 0x7777,
          "a write to it faults (present, write) and changes nothing", "ec 0x%lx",
          (unsigned long)trap_seen[2]);
    check(uva(si->pt_base, si->pt_base | 0x23) == -XEN_EINVAL,
          "update_va_mapping: the page tables writable -EINVAL", "other");
    check(uva(spare, (si->nr_pages << 12) | 0x23) == -XEN_EINVAL,
          "update_va_mapping: a frame past its RAM -EINVAL", "other");
    check(uva(spare, ((0x80000000ULL + 1) << 12) | 0x23) == -XEN_EINVAL,
          "update_va_mapping: an hv frame it was not given -EINVAL", "other");
    check(uva(1ULL << 63, 0) == -XEN_EINVAL && uva(0x0000100000000000ULL, 0) == -XEN_EINVAL,
          "update_va_mapping: addresses no L1 of its maps -EINVAL", "other");
    check(probe_read(spare, &faulted) == 0x5151 && !faulted, "refusals changed nothing",
          "faulted %d", faulted);
    /* mov %cr0, %rcx (0f 20 c1, no REX) ending at a page whose next page
     * is unmapped: emulated from its own 3 bytes, then the fetch of the
     * next instruction takes a #PF on the unmapped page (not a #GP at the
     * mov, which reading a 4th byte would give). */
    uint64_t next = (uint64_t)code_pages[1];
    memcpy(&code_pages[0][4093], "\x0f\x20\xc1", 3);
    check(uva(next, 0) == 0, "update_va_mapping: unmap the page after the code", "refused");
    uint64_t cr0_seen;
    __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, trap_resume\n\t"
                     "xor %%ecx, %%ecx\n\tjmp *%1\n1:"
                     : "=c"(cr0_seen) : "r"((uint64_t)&code_pages[0][4093]) : "rax", "memory");
    check(trap_vector == 14 && shared_page.vcpu_info[0].arch_cr2 == next &&
              cr0_seen == read_cr0(),
          "mov %cr0 in a page's last 3 bytes: emulated, then #PF at the next page",
          "vector %lu cr2 0x%lx rcx 0x%lx", (unsigned long)trap_vector,
          (unsigned long)shared_page.vcpu_info[0].arch_cr2, (unsigned long)cr0_seen);
    check(uva(next, next | 0x23) == 0, "update_va_mapping: map it back", "refused");
    const volatile uint64_t *m2p = (const uint64_t *)XEN_MACH2PHYS_VIRT_START;
    check(m2p[0] == 0 && m2p[si->console_mfn] == si->console_mfn &&
          m2p[si->store_mfn] == si->store_mfn && m2p[si->nr_pages - 1] == si->nr_pages - 1,
          "M2P at MACH2PHYS_VIRT_START: the identity", "m2p[console] 0x%lx",
          (unsigned long)m2p[si->console_mfn]);
    check(probe_write(XEN_MACH2PHYS_VIRT_START, 5) && m2p[0] == 0, "the M2P is read-only",
          "m2p[0] 0x%lx", (unsigned long)m2p[0]);
    struct xen_mmuext_op ops[40];
    memset(ops, 0, sizeof(ops));
    for (int i = 0; i < 40; i++)
        ops[i].cmd = 6; /* TLB_FLUSH_LOCAL */
    ops[39].cmd = 15;   /* NEW_USER_BASEPTR: the kernel's root */
    ops[39].arg1 = read_cr3() >> 12;
    uint32_t done = 0;
    check(hcall4(XEN_HC_mmuext_op, (uint64_t)ops, 40, (uint64_t)&done, XEN_DOMID_SELF) == 0 &&
              done == 40, "mmuext_op: 40 ops, continued in pieces, pdone 40", "done %u", done);
    ops[0].cmd = 15;
    ops[0].arg1 = 5;
    check(hcall4(XEN_HC_mmuext_op, (uint64_t)ops, 1, 0, XEN_DOMID_SELF) == -XEN_EINVAL,
          "mmuext_op: another root -EINVAL", "other");
    check(hcall4(XEN_HC_mmuext_op, (uint64_t)ops, 1, 0, 1) == -XEN_ESRCH,
          "mmuext_op: another domain -ESRCH", "other");
}

static void ring_write(const struct xen_start_info *si, const char *s)
{
    volatile struct xen_console_interface *ring = (void *)(si->console_mfn << 12);
    uint32_t prod = ring->out_prod;
    for (; *s; s++)
        ring->out[prod++ % sizeof(ring->out)] = *s;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    ring->out_prod = prod;
    uint32_t port = si->console_evtchn;
    hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_send, (uint64_t)&port, 0);
    while (ring->out_cons != ring->out_prod)
        hcall(XEN_HC_sched_op, XEN_SCHEDOP_yield, 0, 0);
}

static void console_ring(const struct xen_start_info *si)
{
    ring_write(si, "xen-traps: through the ring\r\n");
    xprint("xen-traps: through both\r\n");
    ring_write(si, "xen-traps: through both\r\n");
    uint32_t port = 9;
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_send, (uint64_t)&port, 0) == -XEN_EINVAL,
          "evtchn send on a port that is not bound -EINVAL", "other");
    struct xen_callback_register cb = {XEN_CALLBACKTYPE_nmi, 0, 0, 0x100000};
    check(hcall(XEN_HC_callback_op, XEN_CALLBACKOP_register, (uint64_t)&cb, 0) == -XEN_EINVAL,
          "callback_op: nmi -EINVAL", "other");
    cb.type = XEN_CALLBACKTYPE_event;
    cb.address = 0xffff800000000000ULL;
    check(hcall(XEN_HC_callback_op, XEN_CALLBACKOP_register, (uint64_t)&cb, 0) == -XEN_EINVAL,
          "callback_op: an upper-half entry -EINVAL", "other");
    cb.address = 0x100000;
    check(hcall(XEN_HC_callback_op, XEN_CALLBACKOP_register, (uint64_t)&cb, 0) == 0,
          "callback_op: register the event callback", "refused");
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    traps_and_iret();
    emulation(si);
    memory(si);
    console_ring(si);
    if (checks_failed == 0)
        xprint("xen-traps: all %u checks passed\n", checks_run);
    else
        xprint("xen-traps: %u of %u checks failed\n", checks_failed, checks_run);
    shutdown(XEN_SHUTDOWN_poweroff);
}
