/* The privileged instructions a Xen PV kernel runs at ring 3 and Xen
 * emulates (hv/xen/xen.h), reached at their #GP (hv/xen/xen_trap.c):
 *  - `mov %crN, reg` (CR0, CR2, CR3, CR4); `mov reg, %cr4` as Xen's
 *    pv_fixup_guest_cr4 (DE and FSGSBASE are the guest's; every other
 *    bit is discarded, never a #GP) and `mov reg, %cr0` as Xen's write_cr
 *    (only TS may differ from what is read; hv offers no lazy TS, so a
 *    value with TS is the #GP of any other change);
 *  - with the guest's CR4.FSGSBASE, `rdfsbase`/`wrfsbase`/`rdgsbase`/
 *    `wrgsbase` at their #UD (the CPU's CR4.FSGSBASE stays clear for
 *    every guest: hv/cpu/gs_base.h), in both modes, as the MSRs;
 *  - `mov` to and from the debug registers, on a virtual set validated
 *    as Xen's set_debugreg does (also the set_debugreg/get_debugreg
 *    hypercalls). They are never loaded into the CPU: hv keeps the debug
 *    registers its own (a guest's breakpoint does not fire);
 *  - `rdmsr`/`wrmsr` of the few MSRs a PV kernel uses: the GS bases of
 *    its kernel and user modes (Mini-OS keeps its per-CPU data at GS;
 *    lower-half values only, hv/cpu/gs_base.h), swapped on a mode change
 *    as Xen does, also by set_segment_base; FS_BASE (one base for both
 *    modes, as Xen's; any canonical value: hv never uses FS); EFER, DEBUGCTL read; every
 *    other MSR #GP, as on Xen for MSRs it does not know;
 *  - `sgdt`/`sidt` to memory, which UMIP refuses at ring 3.
 * Only in the guest's kernel mode: from user mode each stays the #GP. The
 * instruction's bytes are read from the guest (a page that changes under
 * it can only give a different instruction, decoded as such). */
#include "hv/xen/xen.h"

#include "hv/cpu/gs_base.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/xen/xen_mem.h"
#include "lib/nospec.h"
#include "vcpu/vcpu.h"

#define CR4_VIEW 0x6a0 /* PAE OSFXSR OSXMMEXCPT PGE: Xen's view of CR4 for a PV kernel */
#define CR0_VIEW 0x80050033ul /* PG WP NE ET MP PE: Xen's view of CR0 (TS clear) */
#define DR6_DEFAULT 0xffff0ff0u  /* X86_DR6_DEFAULT: reserved bits read as 1 */
#define DR6_ZEROS 0x1000u        /* bit 12 reads 0 */
#define DR6_STATUS 0xe00fu       /* B0-B3, BD, BS, BT: set by a #DB, cleared by the guest */
#define DR7_DEFAULT 0x400u       /* bit 10 reads 1 */
#define DR7_ZEROS 0xd800u        /* bits 11 (RTM: none offered), 12, 14, 15 read 0 */
#define DR7_GD (1u << 13)        /* general detect: never the guest's */
#define DR7_ACTIVE 0xffu         /* L0-3, G0-3 */
#define DR_IO 2u                 /* R/W bits 10: an I/O breakpoint (needs CR4.DE) */

#define MSR_EFER 0xc0000080u
#define MSR_SHADOW_GS_BASE 0xc0000102u
#define MSR_DEBUGCTL 0x1d9u
#define EFER_VIEW 0xd01u /* SCE LME LMA NXE: a 64-bit PV kernel's */

void xen_cpu_init(struct xen_guest *x)
{
    x->dr6 = DR6_DEFAULT;
    x->dr7 = DR7_DEFAULT;
    x->timer_period = XEN_TIMER_DEFAULT_PERIOD_NS;
}

/* Xen's set_debugreg: 0, -EPERM or -EINVAL (#GP), -ENODEV (#UD). */
int64_t xen_set_debugreg(struct vcpu *v, uint64_t reg, uint64_t value)
{
    struct xen_guest *x = v->guest->xen;
    switch (reg) {
    case 0: case 1: case 2: case 3:
        if (value >= HV_GUEST_LOWER_HALF_END)
            return -XEN_EPERM; /* a breakpoint on hv's half */
        x->dr[array_index_nospec(reg, 4u)] = value;
        return 0;
    case 4: case 6:
        if (reg == 4 && x->cr4_de)
            return -XEN_ENODEV;
        if (value != (uint32_t)value)
            return -XEN_EINVAL;
        x->dr6 = ((uint32_t)value | DR6_DEFAULT) & ~DR6_ZEROS;
        return 0;
    case 5: case 7: {
        if (reg == 5 && x->cr4_de)
            return -XEN_ENODEV;
        if (value != (uint32_t)value)
            return -XEN_EINVAL;
        uint32_t dr7 = ((uint32_t)value & ~DR7_ZEROS) | DR7_DEFAULT, io = 0;
        if (dr7 & DR7_GD)
            return -XEN_EPERM;
        if (dr7 & DR7_ACTIVE)
            for (unsigned i = 0; i < 4; i++)
                if (((dr7 >> (16 + 4 * i)) & 3) == DR_IO) {
                    if (!x->cr4_de)
                        return -XEN_EPERM;
                    io |= dr7 & (3u << (2 * i)); /* its enables: emulated, as Xen's */
                }
        x->dr7_io = io;
        x->dr7 = dr7 & ~io;
        return 0;
    }
    default:
        return -XEN_ENODEV;
    }
}

void xen_debug_status(struct vcpu *v, uint64_t dr6)
{
    v->guest->xen->dr6 |= (uint32_t)(dr6 & DR6_STATUS);
}

/* Xen's get_debugreg (x86emul_read_dr): the value, or -ENODEV (#UD). */
int64_t xen_get_debugreg(struct vcpu *v, uint64_t reg, uint64_t *value)
{
    struct xen_guest *x = v->guest->xen;
    switch (reg) {
    case 0: case 1: case 2: case 3:
        *value = x->dr[array_index_nospec(reg, 4u)];
        return 0;
    case 4: case 5: case 6: case 7:
        if (reg < 6 && x->cr4_de)
            return -XEN_ENODEV;
        *value = (reg & 1) ? (uint64_t)(x->dr7 | x->dr7_io) : x->dr6;
        return 0;
    default:
        return -XEN_ENODEV;
    }
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
    if (f->error_code != 0 || v->arch.user_mode || copy_from_guest(v->guest, b, f->rip, 3) != 0)
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
    case 0: value = CR0_VIEW; break;
    case 2: value = v->guest->xen->cr2; break;
    case 3: value = xen_mem_root_mfn(v->guest) << 12; break;
    case 4:
        value = CR4_VIEW | (v->guest->xen->cr4_de ? CR4_DE : 0) |
                (v->guest->xen->cr4_fsgsbase ? CR4_FSGSBASE : 0);
        break;
    default: return false;
    }
    *gpr(f, reg) = value;
    f->rip += i + 3;
    return true;
}

/* `sgdt`/`sidt` to memory (0f 01 /0, /1; a REX first at most), which
 * UMIP refuses at ring 3 while Xen runs PV guests without UMIP: emulated
 * with fixed answers in Xen's reserved range (hv's own addresses are what
 * UMIP keeps from guests). The operand's address is decoded from ModRM,
 * SIB and displacement (RIP-relative too; no segment override), the 10
 * bytes written as any write on the guest's behalf. */
static bool emulate_sxdt(struct vcpu *v, struct trap_frame *f)
{
    uint8_t b[10];
    unsigned i = 0, rex = 0, len = 3;
    if (f->error_code != 0 || copy_from_guest(v->guest, b, f->rip, 3) != 0)
        return false;
    if ((b[0] & 0xf0) == 0x40) {
        rex = b[i++];
        if (copy_from_guest(v->guest, &b[3], f->rip + 3, 1) != 0)
            return false;
        len = 4;
    }
    unsigned modrm = b[i + 2], mod = modrm >> 6, rm = modrm & 7, op = (modrm >> 3) & 7;
    if (b[i] != 0x0f || b[i + 1] != 0x01 || mod == 3 || op > 1)
        return false;
    /* The bytes after ModRM: a SIB, then 0, 1 or 4 of displacement. */
    unsigned extra = (rm == 4) + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
    if (extra && copy_from_guest(v->guest, &b[len], f->rip + len, extra) != 0)
        return false;
    unsigned at = len, sib = rm == 4 ? b[at++] : 0;
    uint64_t ea = 0;
    bool rip_rel = mod == 0 && rm == 5, no_base = rm == 4 && mod == 0 && (sib & 7) == 5;
    if (rip_rel || no_base) { /* disp32, read now */
        if (copy_from_guest(v->guest, &b[at], f->rip + at, 4) != 0)
            return false;
        extra += 4;
    }
    if (rm == 4) {
        unsigned index = ((sib >> 3) & 7) | ((rex & 2) << 2);
        if (index != 4)
            ea += *gpr(f, index) << (sib >> 6);
        if (!no_base)
            ea += *gpr(f, (sib & 7) | ((rex & 1) << 3));
    } else if (!rip_rel) {
        ea += *gpr(f, rm | ((rex & 1) << 3));
    }
    int32_t disp = 0;
    if (mod == 1)
        disp = (int8_t)b[at];
    else if (mod == 2 || rip_rel || no_base)
        __builtin_memcpy(&disp, &b[at], 4);
    uint64_t next = f->rip + len + extra;
    ea += (uint64_t)(int64_t)disp + (rip_rel ? next : 0);
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = {
        op ? 0xfff : 0xe037, 0xffff830000000000ULL + (op ? 0x1000 : 0)}; /* Xen's range */
    if (ea >= HV_GUEST_LOWER_HALF_END - sizeof(d) || !xen_mem_writable(v->guest, ea, sizeof(d)) ||
        copy_to_guest(v->guest, ea, &d, sizeof(d)) != 0)
        return false;
    f->rip = next;
    return true;
}


/* Xen's two GS bases: the running mode's is the CPU's (vcpu_set_gs_base),
 * the other mode's is kept here and swapped in on a mode change, as Xen's
 * toggle_guest_mode does with swapgs. The running mode's is what the CPU
 * holds (KERNEL_GS_BASE while hv runs): after a selector load of one of
 * its own entries with a base, not what hv last set (v->arch.gs_base is
 * only brought up to date at switch-out). Only a guest that installed
 * such an entry can have one: the rdmsr is for those alone. */
void xen_gs_mode_switch(struct vcpu *v)
{
    struct xen_guest *x = v->guest->xen;
    uint64_t now = v->arch.gs_base;
    if (x->selector_bases) {
        uint64_t live = rdmsr(MSR_KERNEL_GS_BASE);
        now = guest_gs_base_allowed(live) ? live : 0;
    }
    if (!x->gs_other && !now)
        return; /* both 0: nothing to swap (every guest that set none) */
    vcpu_set_gs_base(v, x->gs_other);
    x->gs_other = now;
}

/* set_segment_base(which, base): the FS base (canonical) and the kernel's
 * and user's GS bases (a lower-half address, the rule of hv/cpu/gs_base.h;
 * else -EINVAL); a user GS selector -ENOSYS. */
int64_t xen_set_segment_base(struct vcpu *v, uint64_t which, uint64_t base)
{
    switch (which) {
    case XEN_SEGBASE_FS:
        if (!guest_fs_base_allowed(base))
            return -XEN_EINVAL;
        vcpu_set_fs_base(v, base);
        return 0;
    case XEN_SEGBASE_GS_USER:
    case XEN_SEGBASE_GS_KERNEL:
        if (!guest_gs_base_allowed(base))
            return -XEN_EINVAL;
        if (which == XEN_SEGBASE_GS_USER)
            v->guest->xen->gs_other = base; /* a hypercall comes from kernel mode */
        else
            vcpu_set_gs_base(v, base);
        return 0;
    case XEN_SEGBASE_GS_USER_SEL:
        return -XEN_ENOSYS;
    default:
        return -XEN_EINVAL;
    }
}

/* rdmsr and wrmsr in kernel mode: FS_BASE (canonical values), GS_BASE (the
 * kernel's GS base, the CPU's now) and SHADOW_GS_BASE (user mode's),
 * lower-half values only;
 * EFER, DEBUGCTL as they are (writes of what they hold); anything else
 * #GP. */
static bool emulate_msr(struct vcpu *v, struct trap_frame *f, bool write)
{
    struct xen_guest *x = v->guest->xen;
    uint32_t msr = (uint32_t)f->rcx;
    uint64_t value = 0, wanted = (f->rdx << 32) | (uint32_t)f->rax;
    switch (msr) {
    case MSR_GS_BASE:
    case MSR_SHADOW_GS_BASE:
        if (write) {
            if (!guest_gs_base_allowed(wanted))
                return false; /* non-canonical or hv's half: #GP */
            if (msr == MSR_GS_BASE)
                vcpu_set_gs_base(v, wanted);
            else
                x->gs_other = wanted;
        }
        value = msr == MSR_GS_BASE ? rdmsr(MSR_KERNEL_GS_BASE) : x->gs_other; /* the CPU's, as FS's */
        break;
    case MSR_FS_BASE:
        if (write) {
            if (!guest_fs_base_allowed(wanted))
                return false;
            vcpu_set_fs_base(v, wanted);
        }
        value = rdmsr(MSR_FS_BASE); /* the CPU's: its own selector loads count (hv never uses FS) */
        break;
    case MSR_DEBUGCTL:
        break;
    case MSR_EFER:
        value = EFER_VIEW;
        break;
    default:
        return false;
    }
    if (write && wanted != value)
        return false; /* changing EFER or DEBUGCTL is not offered: #GP */
    if (!write) {
        f->rax = (uint32_t)value;
        f->rdx = value >> 32;
    }
    f->rip += 2;
    return true;
}

/* `mov reg, %cr0` and `mov reg, %cr4` (0f 22 /0, /4): Xen's rules for a
 * PV kernel (Unikraft's start writes both). CR4: DE and FSGSBASE are kept
 * (virtual: the debug registers and the FS/GS base instructions are
 * emulated); TSD and OSXSAVE, the other bits Xen lets a guest choose, are
 * not offered (hv's policy lacks them, which Xen's pv_fixup_guest_cr4
 * answers by discarding them), and Xen's own bits are its view: a write
 * never faults. CR0: Xen refuses (#GP) any change but TS, and TS is
 * Xen's lazy FPU switch, which hv does not offer: only the view itself
 * may be written. */
static bool write_cr(struct vcpu *v, unsigned n, uint64_t value)
{
    if (n == 4) {
        v->guest->xen->cr4_de = value & CR4_DE;
        v->guest->xen->cr4_fsgsbase = value & CR4_FSGSBASE;
        return true;
    }
    return n == 0 && value == CR0_VIEW;
}

/* `mov %drN, reg` (0f 21) and `mov reg, %drN` (0f 23), `mov reg, %cr0/4`
 * (0f 22), REX allowed: the ModRM's mod is ignored, as the CPU does.
 * A refused value is the #GP (error code 0) the CPU gave; a register
 * that does not exist (REX.R, or DR4/5 with CR4.DE) is a #UD. */
static bool emulate_mov_dr_cr4(struct vcpu *v, struct trap_frame *f)
{
    uint8_t b[4];
    unsigned i = 0, rex = 0;
    if (copy_from_guest(v->guest, b, f->rip, 3) != 0)
        return false;
    if ((b[0] & 0xf0) == 0x40) {
        if (copy_from_guest(v->guest, &b[3], f->rip + 3, 1) != 0)
            return false;
        rex = b[i++];
    }
    if (b[i] != 0x0f || (b[i + 1] != 0x21 && b[i + 1] != 0x23 && b[i + 1] != 0x22))
        return false;
    unsigned n = ((b[i + 2] >> 3) & 7) | ((rex & 4) << 1), reg = (b[i + 2] & 7) | ((rex & 1) << 3);
    uint64_t *r = gpr(f, reg);
    int64_t rc;
    if (b[i + 1] == 0x22) {
        if (!write_cr(v, n, *r))
            return false;
        rc = 0;
    } else if (b[i + 1] == 0x23) {
        rc = n > 7 ? -XEN_ENODEV : xen_set_debugreg(v, n, *r);
    } else {
        uint64_t value = 0;
        rc = n > 7 ? -XEN_ENODEV : xen_get_debugreg(v, n, &value);
        if (rc == 0)
            *r = value;
    }
    if (rc == -XEN_ENODEV) {
        f->vector = VEC_UD;
        f->error_code = 0;
        return false; /* the caller delivers the #UD */
    }
    if (rc != 0)
        return false;
    f->rip += i + 3;
    return true;
}

bool xen_emulate_priv(struct vcpu *v, struct trap_frame *f)
{
    uint8_t b[2];
    if (f->error_code != 0 || v->arch.user_mode)
        return false;
    if (copy_from_guest(v->guest, b, f->rip, 2) != 0)
        return false;
    if (b[0] == 0x0f && (b[1] == 0x32 || b[1] == 0x30))
        return emulate_msr(v, f, b[1] == 0x30);
    return emulate_mov_from_cr(v, f) || emulate_mov_dr_cr4(v, f) || emulate_sxdt(v, f);
}

/* `rdfsbase`, `rdgsbase`, `wrfsbase`, `wrgsbase` (f3 [REX] 0f ae /0-/3,
 * a register operand), which #UD while the CPU's CR4.FSGSBASE is clear:
 * with the guest's CR4.FSGSBASE, in either mode, the running mode's base
 * (the GS base is the mode's, as the MSRs say; the FS base is one for
 * both); a 32-bit operand without REX.W, as the CPU does. A value the
 * MSRs would refuse (non-canonical; a GS base on hv's half) is the #GP the
 * CPU gives a non-canonical one. Unikraft uses them when CPUID offers FSGSBASE, which
 * hv does not filter. */
bool xen_emulate_fsgsbase(struct vcpu *v, struct trap_frame *f)
{
    uint8_t b[5];
    unsigned i = 1, rex = 0;
    if (!v->guest->xen->cr4_fsgsbase || copy_from_guest(v->guest, b, f->rip, 4) != 0 || b[0] != 0xf3)
        return false;
    if ((b[1] & 0xf0) == 0x40) {
        if (copy_from_guest(v->guest, &b[4], f->rip + 4, 1) != 0)
            return false;
        rex = b[i++];
    }
    unsigned op = (b[i + 2] >> 3) & 7;
    if (b[i] != 0x0f || b[i + 1] != 0xae || (b[i + 2] & 0xc0) != 0xc0 || op > 3)
        return false;
    uint64_t *r = gpr(f, (b[i + 2] & 7) | ((rex & 1) << 3));
    bool gs = op & 1;
    if (op < 2) {
        /* The CPU's bases (the guest's GS base is KERNEL_GS_BASE while hv
         * runs): a selector load since hv last set or saved one counts,
         * as for the CPU's own rdgsbase (v->arch.gs_base is only brought
         * up to date at switch-out). */
        uint64_t value = rdmsr(gs ? MSR_KERNEL_GS_BASE : MSR_FS_BASE);
        *r = rex & 8 ? value : (uint32_t)value;
    } else {
        uint64_t value = rex & 8 ? *r : (uint32_t)*r;
        if (gs ? !guest_gs_base_allowed(value) : !guest_fs_base_allowed(value)) {
            f->vector = VEC_GP;
            f->error_code = 0;
            return false; /* the caller delivers the #GP */
        }
        if (gs)
            vcpu_set_gs_base(v, value);
        else
            vcpu_set_fs_base(v, value);
    }
    f->rip += i + 3;
    return true;
}
