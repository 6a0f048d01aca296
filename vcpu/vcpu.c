#include "vcpu/vcpu.h"

#include "hv/cpu/gdt.h"
#include "hv/cpu/gs_base.h"
#include "hv/cpu/idt.h"
#include "hv/guest/guest.h"
#include "vcpu/trap_table.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/mm/mm.h"
#include "hv/xen/xen.h"
#include "vcpu/fpu.h"

const struct pt_space *vcpu_space(const struct vcpu *v)
{
    if (v->arch.user_mode)
        return guest_space(v->guest, v->arch.user_space);
    return &v->guest->space;
}

uint64_t vcpu_mode_cs(const struct vcpu *v)
{
    return v->arch.mode_cs[v->arch.user_mode]; /* a bool: 0 or 1 */
}

struct vcpu *vcpu_create(struct guest *g, uint32_t id, uint64_t entry, uint64_t stack_top,
                         uint64_t start_info)
{
    struct vcpu *v = kmalloc(sizeof(*v));
    if (!v)
        return NULL;
    v->arch.fpu = kmalloc(fpu_area_size());
    if (!v->arch.fpu) {
        kfree(v, sizeof(*v));
        return NULL;
    }
    fpu_area_reset(v->arch.fpu);
    v->id = id;
    v->guest = g;
    v->state = VCPU_RUNNABLE;
    v->stack_top = stack_top;
    /* The ABI's initial state: everything zero but these (kmalloc zeroes). */
    struct trap_frame *r = &v->arch.regs;
    r->rip = entry;
    r->rsp = stack_top - 8; /* as if just called: 16-byte alignment minus 8 */
    r->rdi = start_info;
    r->rsi = id;
    r->cs = SEL_USER_CODE;
    r->ss = SEL_USER_DATA;
    v->arch.mode_cs[0] = SEL_USER_CODE;
    v->arch.mode_cs[1] = SEL_GUEST_USER_CODE;
    v->arch.mode_ss = SEL_USER_DATA;
    r->rflags = vcpu_sanitize_rflags(0);
    r->vector = VEC_GUEST_START;
    v->arch.ds = v->arch.es = v->arch.fs = v->arch.gs = 0;
    for (int i = 0; i < HV_VIRQ_COUNT; i++)
        v->ev.virq_port[i] = NO_PORT;
    return v;
}

void vcpu_destroy(struct vcpu *v)
{
    if (v->arch.traps)
        trap_table_free(v->arch.traps); /* with its stage, if a call in steps left one */
    kfree(v->arch.fpu, fpu_area_size());
    kfree(v, sizeof(*v));
}

/* Out of line: a Xen vCPU's FS and GS bases as the CPU holds them (Xen's
 * save_segments): what hv set, or what its own selector loads gave (a
 * descriptor's base, 32 bits; a null selector that kept one). Clamped by
 * the rules hv sets them by (hv/cpu/gs_base.h), which such bases meet. */
static __attribute__((noinline, cold)) void save_bases(struct vcpu *v)
{
    uint64_t fs = rdmsr(MSR_FS_BASE), gs = rdmsr(MSR_KERNEL_GS_BASE);
    v->guest->xen->fs_base = guest_fs_base_allowed(fs) ? fs : 0;
    v->arch.gs_base = guest_gs_base_allowed(gs) ? gs : 0;
}

void vcpu_save(struct vcpu *v)
{
    __asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%fs, %2; mov %%gs, %3"
                     : "=r"(v->arch.ds), "=r"(v->arch.es), "=r"(v->arch.fs), "=r"(v->arch.gs));
    if (v->arch.xen)
        save_bases(v);
    fpu_save(v->arch.fpu);
}

/* Loads the selectors the guest chose, unless they are what the CPU holds
 * already (the common case: both vCPUs left them null). A guest can only
 * have loaded null or a ring-3 selector of hv's GDT (hv's, or Xen's flat
 * 0xe02b/0xe033 in the GDT window, hv/cpu/gdt.h: all present, base 0;
 * anything else faulted in the guest), or a Xen guest one of its own
 * entries, which vcpu_load_descriptors has just installed, nulling a
 * selector whose entry is no longer loadable: so this cannot fault here. An hv
 * vCPU's FS and GS bases are 0 (no FSGSBASE, no MSR access; every
 * descriptor of hv's has base 0). A Xen vCPU's are what hv set for it
 * (vcpu_set_fs_base, vcpu_set_gs_base) or what it loaded itself (a
 * selector of its own GDT entries, base up to 32 bits; a null selector
 * that keeps the old base): vcpu_load writes a Xen vCPU's bases at every
 * switch-in, and an hv vCPU's (0) after a Xen vCPU ran (percpu
 * guest_bases_set), so that no vCPU ever runs on another's bases. A
 * Xen vCPU's bases are read back when it is switched out (vcpu_save, as
 * Xen's save_segments), so a base its own selector load gave (a
 * descriptor's base in FS with no FS base set) comes back with it.
 * KERNEL_GS_BASE holds the guest's GS base while hv runs. */
static void load_segments(const struct arch_vcpu *a)
{
    uint16_t ds, es, fs, gs;
    __asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%fs, %2; mov %%gs, %3"
                     : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
    if (ds != a->ds || es != a->es)
        __asm__ volatile("mov %0, %%ds; mov %1, %%es" : : "r"(a->ds), "r"(a->es));
    if (fs != a->fs)
        __asm__ volatile("mov %0, %%fs" : : "r"(a->fs));
    if (gs != a->gs) {
        /* Loading GS overwrites GS_BASE, hv's per-CPU pointer until the
         * swapgs on the way out. Load it with the bases swapped, so that
         * hv's pointer is never lost: an NMI between the two swapgs finds
         * a lower-half GS_BASE and swaps, as after any guest entry
         * (hv/cpu/isr.S). KERNEL_GS_BASE ends up with the guest's (0). */
        __asm__ volatile("swapgs; mov %0, %%gs; swapgs" : : "r"(a->gs) : "memory");
    }
}

void vcpu_set_gs_base(struct vcpu *v, uint64_t base)
{
    if (!guest_gs_base_allowed(base))
        return; /* callers check; never an upper-half base */
    wrmsr(MSR_KERNEL_GS_BASE, base); /* the running (Xen) vCPU's: guest_bases_set holds */
    v->arch.gs_base = base;
}

void vcpu_set_fs_base(struct vcpu *v, uint64_t base)
{
    if (!guest_fs_base_allowed(base))
        return; /* callers check; never a non-canonical base */
    wrmsr(MSR_FS_BASE, base); /* only a Xen vCPU's kernel sets one (hv/xen/xen_emul.c) */
    v->guest->xen->fs_base = base;
}

/* Whether v is a Xen vCPU or this CPU's FS/GS bases may be one's: the
 * per-CPU flag or'ed in through GS, the branch taken on the flags (no
 * pointer to the per-CPU block, no second branch). */
static inline bool bases_to_load(const struct vcpu *v)
{
    uint8_t any = v->arch.xen;
    bool set;
    __asm__ volatile("orb %%gs:%c2, %1"
                     : "=@ccnz"(set), "+q"(any)
                     : "i"(offsetof(struct percpu, guest_bases_set)));
    return set;
}

/* Out of line: only for a Xen vCPU and the first hv vCPU after one. */
static __attribute__((noinline, cold)) void load_bases(const struct vcpu *v)
{
    wrmsr(MSR_FS_BASE, v->arch.xen ? v->guest->xen->fs_base : 0);
    wrmsr(MSR_KERNEL_GS_BASE, v->arch.gs_base);
    this_cpu()->guest_bases_set = v->arch.xen;
}

static uint64_t loaded_gdt_version(void)
{
    uint64_t version;
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(version) : "i"(offsetof(struct percpu, gdt_version)));
    return version;
}

/* Out of line: only around a Xen vCPU with GDT entries of its own. */
__attribute__((noinline, cold)) void vcpu_load_descriptors(struct vcpu *v)
{
    struct percpu *c = this_cpu();
    xen_gdt_load(v, c->tables.gdt, &c->gdt_version);
}

struct trap_frame *vcpu_load(struct vcpu *v)
{
    /* No copy: the exit leaves from v's own frame (sched.c, leave_from). */
    struct trap_frame *frame = &v->arch.regs;
    frame->ss = v->arch.mode_ss;
    /* One test for hv's own vCPUs: both 0 once a CPU holds no Xen
     * guest's entries. Before load_segments, which may load them. */
    if (v->arch.gdt_version | loaded_gdt_version()) {
        vcpu_load_descriptors(v);
        /* A Xen vCPU switched out while it ran on one of its own code
         * selectors (preempted there, or just after hv completed its
         * lretq to one) resumes on it, as Xen's iret would: only if that
         * entry, now installed here, is still 64-bit ring-3 code. */
        if (!xen_gdt_own_code(v, frame->cs))
            frame->cs = vcpu_mode_cs(v);
    } else {
        frame->cs = vcpu_mode_cs(v); /* per vCPU: hv's or Xen's, no branch on the personality */
    }
    load_segments(&v->arch);
    if (bases_to_load(v))
        load_bases(v);
    fpu_restore(v->arch.fpu);
    idt_set_fast_gate(v->arch.traps ? v->arch.traps->fast_handler : 0);
    return frame; /* rflags: sanitised by the return (sched.c) */
}
