/* The C side of the HV_CALL_IRET fast path (vcpu/syscall_entry.S): the
 * offsets it reads, checked here, and the one case it hands back to C
 * with a result (a frame it could not read). The path itself decides
 * nothing the C path would refuse: every frame it does not take in full
 * (to user mode, any check failing, events to enter, a decision due) goes
 * to hypercall_entry, where vcpu_iret (vcpu/deliver.c) applies the rules. */
#include "vcpu/iret_fast.h"

#include <stddef.h>

#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/mm/pagetable.h"
#include "hv/guest/guest.h"
#include "hv/sched/sched_return.h"
#include "vcpu/vcpu.h"

uint8_t iret_fast_off;

_Static_assert(HV_CALL_IRET_NR == HV_CALL_IRET && HV_KERNEL_CS_SEL == HV_KERNEL_CS &&
                   HV_USER_CS_SEL == HV_USER_CS && HV_DATA_SS_SEL == HV_DATA_SS,
               "the ABI's numbers");
/* What the path assumes beyond the offsets: the widths of its loads and
 * compares (cmpb, cmpl, a 32-bit id scaled by 32) and the vCPU array at
 * the start of the shared page (it adds id << 5 to the page's address). */
_Static_assert(sizeof(((struct vcpu *)0)->id) == 4 && sizeof(((struct vcpu *)0)->arch.user_mode) == 1 &&
                   sizeof(((struct percpu *)0)->need_resched) == 1 && sizeof(((struct percpu *)0)->slice_cut) == 1 &&
                   sizeof(iret_fast_off) == 1 &&
                   sizeof(((struct hv_vcpu_shared *)0)->upcall_pending) == 1 &&
                   sizeof(((struct hv_vcpu_shared *)0)->upcall_mask) == 1 &&
                   offsetof(struct hv_shared_info, vcpu) == 0 &&
                   sizeof(((struct guest *)0)->space.root_phys) == 8,
               "the widths and placements syscall_entry.S's iret_fast reads");
_Static_assert(IRET_FRAME_BYTES == sizeof(struct hv_iret_frame) &&
                   IRET_RAX == offsetof(struct hv_iret_frame, rax) &&
                   IRET_RCX == offsetof(struct hv_iret_frame, rcx) &&
                   IRET_R11 == offsetof(struct hv_iret_frame, r11) &&
                   IRET_FLAGS == offsetof(struct hv_iret_frame, flags) &&
                   IRET_RIP == offsetof(struct hv_iret_frame, rip) &&
                   IRET_CS == offsetof(struct hv_iret_frame, cs) &&
                   IRET_RFLAGS == offsetof(struct hv_iret_frame, rflags) &&
                   IRET_RSP == offsetof(struct hv_iret_frame, rsp) &&
                   IRET_SS == offsetof(struct hv_iret_frame, ss),
               "struct hv_iret_frame");
_Static_assert(IRET_FRAME_LIMIT == HV_GUEST_LOWER_HALF_END - sizeof(struct hv_iret_frame) + 1,
               "IRET_FRAME_LIMIT");
_Static_assert(PERCPU_CURRENT == offsetof(struct percpu, current) &&
                   PERCPU_NEED_RESCHED == offsetof(struct percpu, need_resched) &&
                   PERCPU_SLICE_CUT == offsetof(struct percpu, slice_cut) &&
                   PERCPU_IRET_C_PATH == offsetof(struct percpu, entry.iret_c_path),
               "struct percpu");
_Static_assert(VCPU_ID == offsetof(struct vcpu, id) && VCPU_GUEST == offsetof(struct vcpu, guest) &&
                   VCPU_STATE == offsetof(struct vcpu, state) && VCPU_RUNNING == 0 &&
                   VCPU_REGS == offsetof(struct vcpu, arch.regs) &&
                   sizeof(enum vcpu_state) == 4 &&
                   VCPU_DELIVERY_RIP == offsetof(struct vcpu, arch.delivery.rip) &&
                   VCPU_USER_MODE == offsetof(struct vcpu, arch.user_mode) &&
                   VCPU_USER_MODE + 1 == offsetof(struct vcpu, arch.xen) &&
                   VCPU_HV_ENTRIES == offsetof(struct vcpu, arch.hv_entries),
               "struct vcpu");
_Static_assert(GUEST_SPACE_ROOT == offsetof(struct guest, space.root_phys) &&
                   GUEST_SHARED == offsetof(struct guest, shared),
               "struct guest");
_Static_assert(sizeof(struct hv_vcpu_shared) == 1u << SHARED_VCPU_SHIFT &&
                   SHARED_UPCALL_PENDING == offsetof(struct hv_vcpu_shared, upcall_pending) &&
                   SHARED_UPCALL_MASK == offsetof(struct hv_vcpu_shared, upcall_mask),
               "struct hv_vcpu_shared");
_Static_assert(PTE_ADDR_BITS == PTE_ADDR_MASK && RFLAGS_GUEST_BITS == RFLAGS_GUEST_MASK &&
                   RFLAGS_ALWAYS == ((1ull << RFLAGS_IF_BIT) | RFLAGS_RESERVED_1) &&
                   (1ull << RFLAGS_IF_BIT) == RFLAGS_IF,
               "flag and address bits");
_Static_assert(FRAME_R11 == offsetof(struct trap_frame, r11) &&
                   FRAME_RCX == offsetof(struct trap_frame, rcx) &&
                   FRAME_RAX == offsetof(struct trap_frame, rax) &&
                   FRAME_VECTOR == offsetof(struct trap_frame, vector) &&
                   FRAME_RIP == offsetof(struct trap_frame, rip) &&
                   FRAME_CS == offsetof(struct trap_frame, cs) &&
                   FRAME_RFLAGS == offsetof(struct trap_frame, rflags) &&
                   FRAME_RSP == offsetof(struct trap_frame, rsp) &&
                   FRAME_SS == offsetof(struct trap_frame, ss) &&
                   VEC_GUEST_BOUNCE_NR == VEC_GUEST_BOUNCE,
               "struct trap_frame");

/* The fast path faulted reading the frame (a #PF on the guest's address,
 * fixed up by the exception table): what the C path does with a frame it
 * cannot read (vcpu_iret's -HV_EFAULT, the frame otherwise unchanged),
 * without reading it again, so the fault is counted once. */
void iret_frame_unreadable(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    cpu->entry.iret_c_path++;
    cpu->current->arch.hv_entries++;
    f->rax = (uint64_t)-HV_EFAULT;
    sched_return_inline(f);
}
