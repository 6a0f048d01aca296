#include "vcpu/smap_quirk.h"

#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/xen/xen.h"
#include "vcpu/trap_table.h"
#include "vcpu/vcpu.h"

#define PF_USER (1u << 2)
#define PF_RESERVED (1u << 3)
#define PF_FETCH (1u << 4)

static const struct pt_space *current_space(struct vcpu *v)
{
    return guest_space(v->guest, v->arch.user_mode ? v->arch.user_space : HV_SPACE_KERNEL);
}

/* A ring-3 iretq to ring 3: pop rip, cs, rflags, rsp, ss as user accesses
 * (only ever to the same mode: a Xen guest's iretq cannot leave its kernel). */
static bool complete_iretq(struct vcpu *v, struct trap_frame *f)
{
    uint64_t fr[5];
    if (copy_from_space(current_space(v), fr, f->rsp, sizeof(fr)) != 0)
        return false; /* really unreadable: the guest gets its #PF */
    /* The selectors of the vCPU's personality: hv's 0x23/0x3b and 0x1b,
     * or Xen's flat 0xe033 and 0xe02b (Mini-OS returns from its upcalls
     * with a ring-3 iretq on them). */
    if ((fr[1] != v->arch.mode_cs[0] && fr[1] != v->arch.mode_cs[1]) || fr[4] != v->arch.mode_ss ||
        fr[0] >= HV_GUEST_LOWER_HALF_END)
        return false;
    f->rip = fr[0];
    f->cs = fr[1];
    f->rflags = vcpu_sanitize_rflags(fr[2]); /* guest-written: as HV_CALL_IRET's */
    f->rsp = fr[3];
    f->vector = VEC_GUEST_BOUNCE;
    return true;
}

/* A ring-3 `lretq` (XTF's xsa-296 enters its own code segment so): pop
 * rip and cs as user accesses, to the vCPU's own selectors or, for a Xen
 * vCPU, one of its installed 64-bit code entries (never anything the exit's
 * iretq could fault on). */
static bool complete_lretq(struct vcpu *v, struct trap_frame *f)
{
    uint64_t fr[2];
    if (copy_from_space(current_space(v), fr, f->rsp, sizeof(fr)) != 0)
        return false;
    if ((fr[1] != v->arch.mode_cs[0] && fr[1] != v->arch.mode_cs[1] && !xen_gdt_own_code(v, fr[1])) ||
        fr[0] >= HV_GUEST_LOWER_HALF_END || f->rsp > HV_GUEST_LOWER_HALF_END - sizeof(fr))
        return false;
    f->rip = fr[0];
    f->cs = fr[1];
    f->rsp += sizeof(fr);
    f->vector = VEC_GUEST_BOUNCE;
    return true;
}

/* `int $HV_FAST_TRAP_VECTOR` through the vCPU's DPL-3 gate: the frame on
 * the current stack, as user accesses, and on to the handler. */
static bool complete_fast_gate(struct vcpu *v, struct trap_frame *f)
{
    uint64_t handler = v->arch.traps ? v->arch.traps->fast_handler : 0;
    if (!handler)
        return false;
    uint64_t fr[5] = {f->rip + 2, f->cs, f->rflags, f->rsp, f->ss};
    uint64_t sp = (f->rsp & ~15ull) - sizeof(fr);
    if (copy_to_space(current_space(v), sp, fr, sizeof(fr)) != 0)
        return false;
    f->rip = handler;
    f->rsp = sp;
    f->rflags &= ~((1ull << 8) | (1ull << 14) | (1ull << 16)); /* TF NT RF, as a trap gate */
    f->vector = VEC_GUEST_BOUNCE;
    return true;
}

bool smap_quirk_complete(struct vcpu *v, struct trap_frame *f, uint64_t cr2)
{
    if (f->vector != VEC_PF || (f->error_code & (PF_USER | PF_RESERVED | PF_FETCH)) ||
        cr2 >= HV_GUEST_LOWER_HALF_END)
        return false;
    uint8_t insn[2];
    if (copy_from_space(current_space(v), insn, f->rip, 2) != 0)
        return false;
    if (insn[0] == 0x48 && insn[1] == 0xcf)
        return complete_iretq(v, f);
    if (insn[0] == 0x48 && insn[1] == 0xcb)
        return complete_lretq(v, f);
    if (insn[0] == 0xcd && insn[1] == HV_FAST_TRAP_VECTOR)
        return complete_fast_gate(v, f);
    return false;
}
