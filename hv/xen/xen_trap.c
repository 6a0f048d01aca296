/* Exceptions of a Xen PV guest, and its iret (hv/xen/xen.h). In order:
 *  - a #PF only the demand W^X of its mappings caused is hv's
 *    (hv/xen/xen_mem.c): the guest retries;
 *  - Xen's forced-emulation prefix before `cpuid` (ud2; "xen"; cpuid: the
 *    guest asks for Xen's view of CPUID) is emulated at the #UD;
 *  - `mov %crN, reg`, which Xen emulates for PV kernels, at the #GP;
 *  - anything else is bounced to the guest's trap table in Xen's frame
 *    (public arch-x86/xen-x86_64.h; Xen's create_bounce_frame): below the
 *    interrupted rsp, 16-byte aligned, rcx, r11, [error code], rip, cs
 *    (the saved upcall mask in bits 32-39, RPL 0 for kernel mode), rflags,
 *    rsp, ss; or, with no handler, the guest ends as any guest's fault.
 * Xen guests run in kernel mode only so far (no user-mode iret yet). */
#include "hv/xen/xen.h"

#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/guest/guest.h"
#include "hv/guest/shared_layout.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/mm.h"
#include "hv/xen/xen_mem.h"
#include "lib/fmt.h"
#include "lib/nospec.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

#define ERROR_CODE_VECTORS 0x60227d00u /* #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX */
#define KERNEL_CS_SLOT 0xe030 /* FLAT_RING3_CS64 with RPL 0: "was in kernel mode" */
#define TRAP_MASK_EVENTS 4
#define PF_WRITE (1u << 1)

/* The Xen shared-info page, through the layout accessors (a Xen guest
 * has one vCPU, 0). */
static const struct shared_layout XEN_LAYOUT = SHARED_LAYOUT_XEN;

static uint8_t *upcall_mask(struct guest *g)
{
    return shared_upcall_mask(phys_to_virt(g->xen->shared_info_pa), &XEN_LAYOUT, 0);
}

static void __attribute__((cold)) end_with(struct guest *g, const struct trap_frame *f,
                                           uint64_t cr2, const char *why)
{
    char reason[112];
    if (f->vector == VEC_PF)
        fmt_format(reason, sizeof(reason), "#PF (page fault) at 0x%lx, error code 0x%lx, RIP 0x%lx%s",
                   (unsigned long)cr2, (unsigned long)f->error_code, (unsigned long)f->rip, why);
    else
        fmt_format(reason, sizeof(reason), "%s (%s), error code 0x%lx, RIP 0x%lx%s",
                   exception_mnemonic(f->vector), exception_name(f->vector),
                   (unsigned long)f->error_code, (unsigned long)f->rip, why);
    guest_end(g, GUEST_FAULTED, -1, reason);
}

/* Xen's bounce frame onto the guest kernel's stack, then its handler. */
bool xen_bounce(struct vcpu *v, struct trap_frame *f, uint64_t handler, bool error_code,
                bool mask_events)
{
    struct guest *g = v->guest;
    uint64_t saved_mask = *upcall_mask(g);
    uint64_t frame[8], n = 0;
    frame[n++] = f->rcx;
    frame[n++] = f->r11;
    if (error_code)
        frame[n++] = f->error_code;
    frame[n++] = f->rip;
    frame[n++] = KERNEL_CS_SLOT | (saved_mask << 32);
    frame[n++] = (vcpu_sanitize_rflags(f->rflags) & ~RFLAGS_IF) | (saved_mask ? 0 : RFLAGS_IF);
    frame[n++] = f->rsp;
    frame[n++] = XEN_FLAT_KERNEL_SS64;
    uint64_t rsp = (f->rsp & ~15ULL) - n * 8;
    if (f->rsp >= HV_GUEST_LOWER_HALF_END || f->rsp < n * 8 + 16 ||
        !xen_mem_writable(g, rsp, n * 8) || copy_to_guest(g, rsp, frame, n * 8) != 0)
        return false;
    f->rsp = rsp;
    f->rip = handler;
    f->rflags = vcpu_sanitize_rflags(f->rflags & ~(1ULL << 8)); /* TF off, as Xen */
    f->vector = VEC_GUEST_BOUNCE; /* leave by iretq: rcx and r11 are the guest's */
    if (mask_events)
        *upcall_mask(g) = 1;
    return true;
}

static bool deliver(struct vcpu *v, struct trap_frame *f, unsigned vector)
{
    struct xen_guest *x = v->guest->xen;
    bool ec = vector < 32 && (ERROR_CODE_VECTORS & (1u << vector));
    vector = array_index_nospec(vector, XEN_TRAP_VECTORS);
    uint64_t handler = x->trap_address[vector];
    if (!handler)
        return false;
    return xen_bounce(v, f, handler, ec, x->trap_flags[vector] & TRAP_MASK_EVENTS);
}

/* ud2; .ascii "xen"; cpuid: the forced-emulation prefix before CPUID. */
static const uint8_t FEP_CPUID[7] = {0x0f, 0x0b, 'x', 'e', 'n', 0x0f, 0xa2};

static void emulate_cpuid(struct trap_frame *f)
{
    uint32_t leaf = (uint32_t)f->rax, sub = (uint32_t)f->rcx, a, b, c, d;
    if (leaf >= 0x40000000 && leaf < 0x40000100) {
        /* Xen's leaves (arch-x86/cpuid.h): the signature, the version. */
        a = b = c = d = 0;
        if (leaf == 0x40000000)
            a = 0x40000002, b = 0x566e6558, c = 0x65584d4d, d = 0x4d4d566e;
        else if (leaf == 0x40000001)
            a = (XEN_CLAIMED_MAJOR << 16) | XEN_CLAIMED_MINOR;
        else if (leaf == 0x40000002)
            a = 1; /* one hypercall page, already written */
    } else {
        /* What the guest's own cpuid gets: hv does not filter CPUID. */
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
    }
    f->rax = a, f->rbx = b, f->rcx = c, f->rdx = d;
    f->rip += sizeof(FEP_CPUID);
}

static uint64_t *gpr(struct trap_frame *f, unsigned n)
{
    switch (n & 15) {
    case 0: return &f->rax;
    case 1: return &f->rcx;
    case 2: return &f->rdx;
    case 3: return &f->rbx;
    case 4: return &f->rsp;
    case 5: return &f->rbp;
    case 6: return &f->rsi;
    case 7: return &f->rdi;
    case 8: return &f->r8;
    case 9: return &f->r9;
    case 10: return &f->r10;
    case 11: return &f->r11;
    case 12: return &f->r12;
    case 13: return &f->r13;
    case 14: return &f->r14;
    default: return &f->r15;
    }
}

/* `mov %crN, %reg` (0f 20 /r, an optional REX first), which the CPU
 * refuses at ring 3: Xen's PV view of CR0, CR2, CR3 (the guest's root,
 * as a machine address) and CR4. */
static bool emulate_mov_from_cr(struct vcpu *v, struct trap_frame *f)
{
    /* Three bytes, and a fourth only behind a REX prefix: an instruction
     * in the last three bytes of a page must not need the next page. */
    uint8_t b[4];
    if (f->error_code != 0 || copy_from_guest(v->guest, b, f->rip, 3) != 0)
        return false;
    unsigned i = 0, rex = 0;
    if ((b[0] & 0xf0) == 0x40) {
        if (copy_from_guest(v->guest, &b[3], f->rip + 3, 1) != 0)
            return false;
        rex = b[i++];
    }
    if (b[i] != 0x0f || b[i + 1] != 0x20 || (b[i + 2] & 0xc0) != 0xc0)
        return false;
    unsigned cr = ((b[i + 2] >> 3) & 7) | ((rex & 4) << 1), reg = (b[i + 2] & 7) | ((rex & 1) << 3);
    uint64_t value;
    switch (cr) {
    case 0: value = 0x80050033; break; /* PG WP NE ET MP PE */
    case 2: value = v->guest->xen->cr2; break;
    case 3: value = xen_mem_root_mfn(v->guest) << 12; break;
    case 4: value = 0x6a0; break; /* PAE OSFXSR OSXMMEXCPT PGE */
    default: return false;
    }
    *gpr(f, reg) = value;
    f->rip += i + 3;
    return true;
}

/* A #PF that only the demand W^X of the guest's mappings caused: the page
 * flips and the guest retries; true if so. Not when the flip would undo
 * the one before it for the same instruction and page: that instruction
 * writes the page it is fetched from (or straddles into it), so every
 * retry faults the other way and it never finishes. Such a fault is the
 * guest's, as hv never maps a page writable and executable. */
static bool demand_flip(struct vcpu *v, const struct trap_frame *f, uint64_t cr2,
                        const char **why)
{
    struct xen_guest *x = v->guest->xen;
    uint64_t page = cr2 & ~0xfffULL;
    bool write = f->error_code & PF_WRITE;
    if (x->flip_rip == f->rip && x->flip_page == page && x->flip_write != write) {
        *why = " (W^X: it writes the page it runs from)";
        return false;
    }
    if (!xen_mem_flip_on_fault(v, f->error_code, cr2))
        return false;
    x->flip_rip = f->rip;
    x->flip_page = page;
    x->flip_write = write;
    return true;
}

void xen_exception(struct vcpu *v, struct trap_frame *f, uint64_t cr2)
{
    struct guest *g = v->guest;
    unsigned vector = (unsigned)f->vector;
    const char *why = "";
    if (vector == VEC_PF) {
        if (demand_flip(v, f, cr2, &why))
            return;
        g->xen->cr2 = cr2;
        /* Where Xen puts it for the handler: vcpu_info.arch.cr2. */
        *shared_cr2(phys_to_virt(g->xen->shared_info_pa), &XEN_LAYOUT, 0) = cr2;
    } else if (vector == VEC_UD) {
        uint8_t b[sizeof(FEP_CPUID)];
        if (copy_from_guest(g, b, f->rip, sizeof(b)) == 0 && memcmp(b, FEP_CPUID, sizeof(b)) == 0) {
            emulate_cpuid(f);
            return;
        }
    } else if (vector == VEC_GP && emulate_mov_from_cr(v, f)) {
        return;
    }
    if (v->arch.user_mode || !deliver(v, f, vector))
        end_with(g, f, cr2, g->xen->trap_address[array_index_nospec(vector, XEN_TRAP_VECTORS)]
                                ? " (could not deliver)" : why);
}

/* HYPERVISOR_iret: the stub pushed rcx, r11 and rax onto the guest's
 * iret frame (struct iret_context at rsp). Back to kernel mode only; a
 * frame that cannot be read or names user mode ends the guest (Xen
 * crashes a domain whose iret fails, when it has no failsafe). */
void xen_iret(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    struct xen_iret_context c;
    if (f->rsp >= HV_GUEST_LOWER_HALF_END - sizeof(c) ||
        copy_from_guest(g, &c, f->rsp, sizeof(c)) != 0) {
        guest_end(g, GUEST_FAULTED, -1, "Xen iret: the frame cannot be read");
        return;
    }
    if ((c.cs & 3) == 3 || c.rip >= HV_GUEST_LOWER_HALF_END || c.rsp >= HV_GUEST_LOWER_HALF_END) {
        guest_end(g, GUEST_FAULTED, -1,
                  (c.cs & 3) == 3 ? "Xen iret to user mode: not supported yet"
                                  : "Xen iret: rip or rsp outside the guest's half");
        return;
    }
    *upcall_mask(g) = !(c.rflags & RFLAGS_IF);
    f->rip = c.rip;
    f->rsp = c.rsp;
    f->rflags = vcpu_sanitize_rflags(c.rflags);
    f->rax = c.rax;
    if (!(c.flags & XEN_VGCF_in_syscall)) {
        f->rcx = c.rcx;
        f->r11 = c.r11;
        f->vector = VEC_GUEST_BOUNCE; /* iretq: rcx and r11 are the frame's */
    }
}
