/* Exceptions of a Xen PV guest, and its iret (hv/xen/xen.h). In order:
 *  - a #PF only the demand W^X of its mappings caused is hv's
 *    (hv/xen/xen_mem.c): the guest retries;
 *  - Xen's forced-emulation prefix before `cpuid` (ud2; "xen"; cpuid: the
 *    guest asks for Xen's view of CPUID) is emulated at the #UD;
 *  - the privileged instructions Xen emulates for PV kernels, at the #GP
 *    (hv/xen/xen_emul.c);
 *  - anything else is bounced to the guest's trap table in Xen's frame
 *    (public arch-x86/xen-x86_64.h; Xen's create_bounce_frame): below the
 *    interrupted rsp, 16-byte aligned, rcx, r11, [error code], rip, cs
 *    (the saved upcall mask in bits 32-39, RPL 0 for kernel mode), rflags,
 *    rsp, ss; or, with no handler, the guest ends as any guest's fault.
 * From user mode the frame goes on the stack_switch stack and the vCPU
 * is in kernel mode after; `int n` (Xen's DPL rule) and `syscall` (the
 * syscall callback) from user mode come here too. */
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
#define PF_USER (1u << 2)
#define SYSCALL_INSN_BYTES 2

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

/* Xen's selectors, in every frame a Xen vCPU leaves hv with: a Xen guest
 * runs on 0xe033/0xe02b in both of its modes, never on hv's 0x23/0x1b. */
static void xen_selectors(struct trap_frame *f)
{
    f->cs = XEN_FLAT_RING3_CS64;
    f->ss = XEN_FLAT_RING3_SS64;
}

/* Guest kernel or user mode. Both run on the one root (a user root is
 * only ever the kernel's, mmuext_op), so only the mode changes. */
static void set_mode(struct vcpu *v, bool user)
{
    if (v->arch.user_mode != user)
        xen_gs_mode_switch(v); /* Xen's kernel and user GS bases */
    v->arch.user_mode = user;
    v->guest->shared->vcpu[v->id].in_user_mode = user;
}

/* Xen's bounce frame onto the guest kernel's stack (the stack_switch
 * stack when it comes from user mode, which it leaves), then `handler`.
 * From low to high: rcx, r11, [ds es fs gs for the failsafe], [error
 * code], rip, cs (0xe030 from kernel mode, 0xe033 from user mode; the
 * saved upcall mask in bits 32-39), rflags (IF = !mask), rsp, ss. */
bool xen_bounce(struct vcpu *v, struct trap_frame *f, uint64_t handler, unsigned how)
{
    struct guest *g = v->guest;
    bool from_user = v->arch.user_mode;
    uint64_t saved_mask = *upcall_mask(g), sp = from_user ? v->arch.kernel_sp : f->rsp;
    uint64_t frame[12], n = 0;
    frame[n++] = f->rcx;
    frame[n++] = f->r11;
    if (how & XB_FAILSAFE) {
        uint16_t sel[4];
        __asm__("mov %%ds, %0; mov %%es, %1; mov %%fs, %2; mov %%gs, %3"
                : "=r"(sel[0]), "=r"(sel[1]), "=r"(sel[2]), "=r"(sel[3]));
        for (unsigned i = 0; i < 4; i++)
            frame[n++] = sel[i];
    }
    if (how & XB_ERROR_CODE)
        frame[n++] = f->error_code;
    frame[n++] = f->rip;
    frame[n++] = (from_user ? XEN_FLAT_RING3_CS64 : KERNEL_CS_SLOT) | (saved_mask << 32);
    frame[n++] = (vcpu_sanitize_rflags(f->rflags) & ~RFLAGS_IF) | (saved_mask ? 0 : RFLAGS_IF);
    frame[n++] = f->rsp;
    frame[n++] = XEN_FLAT_RING3_SS64;
    uint64_t rsp = (sp & ~15ULL) - n * 8;
    if (sp >= HV_GUEST_LOWER_HALF_END || sp < n * 8 + 16 || !xen_mem_writable(g, rsp, n * 8) ||
        copy_to_guest(g, rsp, frame, n * 8) != 0)
        return false;
    if (from_user)
        set_mode(v, false);
    f->rsp = rsp;
    f->rip = handler;
    /* TF, NT and RF off as Xen's bounce does; DF too for a system call. */
    f->rflags = vcpu_sanitize_rflags(f->rflags & ~(RFLAGS_TF | (1ULL << 14) | RFLAGS_RF |
                                                   ((how & XB_CLEAR_DF) ? (1ULL << 10) : 0)));
    xen_selectors(f);
    f->vector = VEC_GUEST_BOUNCE; /* leave by iretq: rcx and r11 are the guest's */
    if (how & XB_MASK_EVENTS)
        *upcall_mask(g) = 1;
    return true;
}

static bool deliver(struct vcpu *v, struct trap_frame *f, unsigned vector)
{
    struct xen_guest *x = v->guest->xen;
    bool ec = vector < 32 && (ERROR_CODE_VECTORS & (1u << vector));
    vector = array_index_nospec(vector, XEN_TRAP_VECTORS);
    uint64_t entry = xen_trap_entry(x, (uint8_t)vector);
    uint64_t handler = xen_trap_handler(entry);
    if (!handler)
        return false;
    return xen_bounce(v, f, handler, (ec ? XB_ERROR_CODE : 0) |
                                         ((xen_trap_flags(entry) & TRAP_MASK_EVENTS) ? XB_MASK_EVENTS : 0));
}

/* `int n` on a gate hv keeps at DPL 0 arrives as #GP naming the gate (bit
 * 1; the vector in bits 3 and up, or QEMU's TCG's vector * 16). Xen's rule
 * for a PV guest: the trap table's DPL must be 3 from user mode, at least
 * 1 from kernel mode; then the handler runs with rip after the `int`.
 * Else the guest gets the #GP, with Xen's error code (vector << 3 | 2). */
#define GP_ERROR_IDT 2u
static bool soft_interrupt(struct vcpu *v, struct trap_frame *f)
{
    struct xen_guest *x = v->guest->xen;
    uint8_t insn[2];
    if ((f->error_code & 3) != GP_ERROR_IDT || copy_from_guest(v->guest, insn, f->rip, 2) != 0 ||
        insn[0] != 0xcd)
        return false;
    uint64_t index = f->error_code & ~7ULL;
    if (index != (uint64_t)insn[1] << 3 && index != (uint64_t)insn[1] << 4)
        return false;
    f->error_code = ((uint64_t)insn[1] << 3) | GP_ERROR_IDT;
    uint64_t entry = xen_trap_entry(x, insn[1]); /* a u8: always in the table */
    unsigned flags = xen_trap_flags(entry);
    if (!xen_trap_handler(entry) || (flags & 3) < (v->arch.user_mode ? 3u : 1u))
        return false;
    f->rip += 2;
    return xen_bounce(v, f, xen_trap_handler(entry), (flags & TRAP_MASK_EVENTS) ? XB_MASK_EVENTS : 0);
}

/* `syscall` in the guest's user mode: its kernel's syscall callback (Xen's
 * frame, no error code, DF cleared, events masked if it asked); with none,
 * #UD at the `syscall`, as Xen gives. */
void xen_syscall_from_user(struct vcpu *v, struct trap_frame *f)
{
    struct xen_guest *x = v->guest->xen;
    uint64_t cb = x->callback[XEN_CALLBACKTYPE_syscall];
    xen_selectors(f); /* the frame names what the guest ran on */
    if (!cb) {
        f->rip -= SYSCALL_INSN_BYTES;
        f->vector = VEC_UD;
        f->error_code = 0;
        xen_exception(v, f, 0);
        return;
    }
    unsigned how = XB_CLEAR_DF;
    if (x->callback_flags[XEN_CALLBACKTYPE_syscall] & XEN_CALLBACKF_mask_events)
        how |= XB_MASK_EVENTS;
    if (!xen_bounce(v, f, cb, how))
        guest_end(v->guest, GUEST_FAULTED, -1, "Xen syscall callback: no kernel stack to take it");
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

/* An instruction hv emulated has completed: true, unless the guest's TF
 * was set. The CPU raised no single-step trap for it (the #UD or #GP that
 * brought it here is a fault: the instruction never finished), so hv
 * turns the frame into the #DB the CPU would have raised after it, BS in
 * the virtual DR6, as Xen's emulator does; without this the guest's
 * debugger saw the step one instruction late. */
#define DR6_BS (1ull << 14)
static bool emulated(struct vcpu *v, struct trap_frame *f)
{
    if (!(f->rflags & RFLAGS_TF))
        return true;
    xen_debug_status(v, DR6_BS);
    f->vector = VEC_DB;
    f->error_code = 0;
    return false;
}

void xen_exception(struct vcpu *v, struct trap_frame *f, uint64_t cr2)
{
    struct guest *g = v->guest;
    unsigned vector = (unsigned)f->vector;
    const char *why = "";
    if (vector == VEC_PF) {
        if (demand_flip(v, f, cr2, &why))
            return;
        if (!v->arch.user_mode)
            f->error_code &= ~PF_USER; /* Xen's U bit: the guest's mode, not the CPU's ring */
        g->xen->cr2 = cr2;
        /* Where Xen puts it for the handler: vcpu_info.arch.cr2. */
        *shared_cr2(phys_to_virt(g->xen->shared_info_pa), &XEN_LAYOUT, 0) = cr2;
    } else if (vector == VEC_UD) {
        uint8_t b[sizeof(FEP_CPUID)];
        if (copy_from_guest(g, b, f->rip, sizeof(b)) == 0 && memcmp(b, FEP_CPUID, sizeof(b)) == 0) {
            emulate_cpuid(f);
            if (emulated(v, f))
                return;
        } else if (xen_emulate_fsgsbase(v, f) && emulated(v, f)) {
            return;
        }
    } else if (vector == VEC_GP) {
        if (soft_interrupt(v, f) || (xen_emulate_priv(v, f) && emulated(v, f)))
            return;
    }
    vector = (unsigned)f->vector; /* a refused debug register became a #UD; TF a #DB */
    if (!deliver(v, f, vector))
        end_with(g, f, cr2, xen_trap_handler(xen_trap_entry(g->xen, (uint8_t)array_index_nospec(vector, XEN_TRAP_VECTORS)))
                                ? " (could not deliver)" : why);
}

/* HYPERVISOR_iret: the stub pushed rcx, r11 and rax onto the guest's
 * iret frame (struct iret_context at rsp). CS with RPL 3 returns to user
 * mode, which needs a user root (Xen crashes a guest without one, as one
 * whose frame cannot be read). Xen's iretq with selectors other than its
 * flat ones faults and enters the failsafe callback; hv checks first and
 * enters it with the frame's registers (or ends a guest without one). */
void xen_iret(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    struct xen_iret_context c;
    if (f->rsp >= HV_GUEST_LOWER_HALF_END - sizeof(c) ||
        copy_from_guest(g, &c, f->rsp, sizeof(c)) != 0) {
        guest_end(g, GUEST_FAULTED, -1, "Xen iret: the frame cannot be read");
        return;
    }
    bool to_user = (c.cs & 3) == 3;
    if (c.rip >= HV_GUEST_LOWER_HALF_END || c.rsp >= HV_GUEST_LOWER_HALF_END ||
        (to_user && !g->xen->user_root)) {
        guest_end(g, GUEST_FAULTED, -1, to_user && !g->xen->user_root
                                            ? "Xen iret to user mode: no user root"
                                            : "Xen iret: rip or rsp outside the guest's half");
        return;
    }
    *upcall_mask(g) = !(c.rflags & RFLAGS_IF);
    f->rip = c.rip;
    f->rsp = c.rsp;
    f->rflags = vcpu_sanitize_rflags(c.rflags);
    f->rax = c.rax;
    f->vector = VEC_GUEST_BOUNCE; /* iretq, on Xen's selectors */
    if (!(c.flags & XEN_VGCF_in_syscall)) {
        f->rcx = c.rcx;
        f->r11 = c.r11;
    }
    if (((c.cs | 3) & 0xffff) != XEN_FLAT_RING3_CS64 || ((c.ss | 3) & 0xffff) != XEN_FLAT_RING3_SS64) {
        uint64_t fs = g->xen->callback[XEN_CALLBACKTYPE_failsafe];
        if (!fs || !xen_bounce(v, f, fs, XB_FAILSAFE))
            guest_end(g, GUEST_FAULTED, -1, "Xen iret: not Xen's flat selectors");
        return;
    }
    xen_selectors(f);
    if (to_user)
        set_mode(v, true);
}
