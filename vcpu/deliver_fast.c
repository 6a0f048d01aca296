/* The C side of the lean delivery (vcpu/deliver_fast.S): the offsets and
 * constants it reads, checked here against the C structures. */
#include "vcpu/deliver_fast.h"

#include <stddef.h>

#include "hv/cpu/percpu.h"
#include "hv/cpu/tlb_shootdown.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/guest/guest.h"
#include "vcpu/deliver.h"
#include "vcpu/trap_table.h"
#include "vcpu/vcpu.h"

_Static_assert(DELIVER_MASK_EVENTS_BIT == DELIVER_MASK_EVENTS &&
                   DELIVER_ERROR_CODE_BIT == DELIVER_ERROR_CODE &&
                   HV_TRAP_MASK_EVENTS_BIT == HV_TRAP_MASK_EVENTS &&
                   HV_TRAP_MASK_EVENTS == DELIVER_MASK_EVENTS,
               "the delivery's flags (a trap-table entry's mask flag is the delivery's)");
_Static_assert(VCPU_DELIVERY_RSP == offsetof(struct vcpu, arch.delivery.rsp) &&
                   VCPU_DELIVERY_WHAT == offsetof(struct vcpu, arch.delivery.what) &&
                   sizeof(((struct vcpu *)0)->arch.delivery.what) == 4 &&
                   VCPU_TRAPS == offsetof(struct vcpu, arch.traps) &&
                   VCPU_KERNEL_SP == offsetof(struct vcpu, arch.kernel_sp) &&
                   VCPU_EV_UPCALL == offsetof(struct vcpu, ev.upcall),
               "struct vcpu");
/* syscall_bounce (vcpu/deliver_fast.S) and iret_fast's return to user
 * mode (vcpu/syscall_entry.S): the fields they read, their widths (cmpb,
 * movzbl, a 32-bit handle, the dying flags as bytes), the space inline. */
_Static_assert(VCPU_SYSCALL_HANDLER == offsetof(struct vcpu, arch.syscall_handler) &&
                   VCPU_XEN == offsetof(struct vcpu, arch.xen) &&
                   VCPU_SYSCALL_FLAGS == offsetof(struct vcpu, arch.syscall_flags) &&
                   sizeof(((struct vcpu *)0)->arch.syscall_flags) == 1 &&
                   VCPU_USER_SPACE == offsetof(struct vcpu, arch.user_space) &&
                   sizeof(((struct vcpu *)0)->arch.user_space) == 4 &&
                   GUEST_SPACE == offsetof(struct guest, space) &&
                   GUEST_USER_SPACES == offsetof(struct guest, user_spaces) &&
                   GUEST_SPACE_DYING == offsetof(struct guest, space_dying) &&
                   sizeof(((struct guest *)0)->space_dying[0]) == 1 &&
                   MAX_USER_SPACES == HV_MAX_USER_SPACES && HV_SPACE_KERNEL == 0 &&
                   SPACE_ROOT == offsetof(struct pt_space, root_phys) &&
                   SPACE_CPUS_LOADED == offsetof(struct pt_space, cpus_loaded) &&
                   PERCPU_INDEX == offsetof(struct percpu, index) &&
                   sizeof(((struct percpu *)0)->index) == 4 &&
                   SHARED_IN_USER_MODE == offsetof(struct hv_vcpu_shared, in_user_mode) &&
                   HV_SYSCALL_MASK_EVENTS_BIT == HV_SYSCALL_MASK_EVENTS &&
                   HV_SYSCALL_MASK_EVENTS == DELIVER_MASK_EVENTS &&
                   DELIVERY_SYSCALL_NR == DELIVERY_SYSCALL,
               "the bounce's fields");
/* The words the assembly loads and stores as 8 bytes (mov, bt on a
 * register): a narrower field would be read with its neighbour. */
_Static_assert(sizeof(((struct pt_space *)0)->cpus_loaded) == 8 && sizeof(tlb_loaded_on[0]) == 8 &&
                   sizeof(((struct guest *)0)->user_spaces[0]) == 8 &&
                   sizeof(((struct vcpu *)0)->arch.syscall_handler) == 8 &&
                   sizeof(((struct vcpu *)0)->arch.kernel_sp) == 8,
               "the bounce's 8-byte words");
_Static_assert(offsetof(struct trap_table, handler) == 0 &&
                   TRAPS_FLAGS == offsetof(struct trap_table, flags) &&
                   sizeof(((struct trap_table *)0)->handler[0]) == 8 &&
                   sizeof(((struct trap_table *)0)->flags[0]) == 1 && TRAP_EXCEPTIONS == 32,
               "struct trap_table");
_Static_assert(SHARED_CR2 == offsetof(struct hv_vcpu_shared, cr2), "struct hv_vcpu_shared");
_Static_assert(FRAME_ERROR == offsetof(struct trap_frame, error_code), "struct trap_frame");
_Static_assert(DELIVER_FRAME_LIMIT == HV_GUEST_LOWER_HALF_END - 5 * 8 + 1, "DELIVER_FRAME_LIMIT");
_Static_assert(LEAN_VECTORS == (0xffffffffu & ~((1u << VEC_DB) | (1u << VEC_NMI) | (1u << VEC_DF) |
                                                (1u << VEC_GP) | (1u << VEC_MC))) &&
                   ERROR_CODE_VECTOR_BITS ==
                       ((1u << VEC_DF) | (1u << VEC_TS) | (1u << VEC_NP) | (1u << VEC_SS) |
                        (1u << VEC_GP) | (1u << VEC_PF) | (1u << VEC_AC) | (1u << VEC_CP) |
                        (1u << 29) | (1u << 30)) &&
                   VEC_PF_NR == VEC_PF,
               "the vectors");
_Static_assert(RFLAGS_ENTRY_CLEARS == (RFLAGS_TF | (1ull << 14) | RFLAGS_RF), "TF, NT, RF");
