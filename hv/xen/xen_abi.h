/* Facts of Xen's public x86-64 PV guest interface that hv's Xen
 * personality needs (docs/plans/xen-personality.md, appendix A). Written
 * from Xen's published interface: numbers and layouts only, each group
 * named with the public header it comes from; every struct's size and the
 * offsets guests rely on are checked below, so a typo cannot go unnoticed.
 * Xen guests see these values; hv's own ABI (include/hv/) is unrelated. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* ---- xen.h: hypercall numbers (the index of the 32-byte stub in the
 * hypercall page) ---- */
enum {
    XEN_HC_set_trap_table = 0, XEN_HC_mmu_update = 1, XEN_HC_set_gdt = 2,
    XEN_HC_stack_switch = 3, XEN_HC_set_callbacks = 4, XEN_HC_fpu_taskswitch = 5,
    XEN_HC_platform_op = 7, XEN_HC_set_debugreg = 8, XEN_HC_get_debugreg = 9,
    XEN_HC_update_descriptor = 10, XEN_HC_memory_op = 12, XEN_HC_multicall = 13,
    XEN_HC_update_va_mapping = 14, XEN_HC_set_timer_op = 15, XEN_HC_xen_version = 17,
    XEN_HC_console_io = 18, XEN_HC_grant_table_op = 20, XEN_HC_vm_assist = 21,
    XEN_HC_update_va_mapping_otherdomain = 22, XEN_HC_iret = 23, XEN_HC_vcpu_op = 24,
    XEN_HC_set_segment_base = 25, XEN_HC_mmuext_op = 26, XEN_HC_xsm_op = 27,
    XEN_HC_nmi_op = 28, XEN_HC_sched_op = 29, XEN_HC_callback_op = 30,
    XEN_HC_xenoprof_op = 31, XEN_HC_event_channel_op = 32, XEN_HC_physdev_op = 33,
    XEN_HC_hvm_op = 34, XEN_HC_sysctl = 35, XEN_HC_domctl = 36, XEN_HC_kexec_op = 37,
    XEN_HC_argo_op = 39,
};
#define XEN_HYPERCALL_STUB_SIZE 32
#define XEN_HYPERCALL_STUBS (4096 / XEN_HYPERCALL_STUB_SIZE)

/* xen.h */
#define XEN_VIRQ_TIMER 0
#define XEN_VIRQ_DEBUG 1
#define XEN_VIRQ_CONSOLE 2
#define XEN_DOMID_SELF 0x7ff0u

/* grant_table.h: the commands hv answers. */
#define XEN_GNTTABOP_setup_table 2
#define XEN_GNTTABOP_query_size 6
#define XEN_DOMID_XEN 0x7ff2u
#define XEN_CONSOLEIO_write 0
#define XEN_CONSOLEIO_read 1
#define XEN_SIF_PRIVILEGED (1u << 0)
#define XEN_SIF_INITDOMAIN (1u << 1)
#define XEN_LEGACY_MAX_VCPUS 32 /* arch-x86/xen.h */

/* ---- elfnote.h: note types under owner "Xen" ---- */
#define XEN_NOTE_OWNER "Xen"
enum {
    XEN_ELFNOTE_INFO = 0, XEN_ELFNOTE_ENTRY = 1, XEN_ELFNOTE_HYPERCALL_PAGE = 2,
    XEN_ELFNOTE_VIRT_BASE = 3, XEN_ELFNOTE_PADDR_OFFSET = 4, XEN_ELFNOTE_XEN_VERSION = 5,
    XEN_ELFNOTE_GUEST_OS = 6, XEN_ELFNOTE_GUEST_VERSION = 7, XEN_ELFNOTE_LOADER = 8,
    XEN_ELFNOTE_PAE_MODE = 9, XEN_ELFNOTE_FEATURES = 10, XEN_ELFNOTE_BSD_SYMTAB = 11,
    XEN_ELFNOTE_HV_START_LOW = 12, XEN_ELFNOTE_L1_MFN_VALID = 13,
    XEN_ELFNOTE_SUSPEND_CANCEL = 14, XEN_ELFNOTE_INIT_P2M = 15,
    XEN_ELFNOTE_MOD_START_PFN = 16, XEN_ELFNOTE_SUPPORTED_FEATURES = 17,
    XEN_ELFNOTE_PHYS32_ENTRY = 18, XEN_ELFNOTE_PHYS32_RELOC = 19,
};

/* ---- arch-x86/xen-x86_64.h ---- */
#define XEN_FLAT_RING3_CS32 0xe023
#define XEN_FLAT_RING3_CS64 0xe033
#define XEN_FLAT_RING3_DS32 0xe02b
#define XEN_FLAT_RING3_DS64 0x0000
#define XEN_FLAT_RING3_SS64 0xe02b
#define XEN_FLAT_KERNEL_CS64 XEN_FLAT_RING3_CS64
#define XEN_FLAT_KERNEL_SS64 XEN_FLAT_RING3_SS64
#define XEN_FLAT_KERNEL_DS64 XEN_FLAT_RING3_DS64
#define XEN_HYPERVISOR_VIRT_START 0xffff800000000000ULL
#define XEN_HYPERVISOR_VIRT_END 0xffff880000000000ULL
#define XEN_MACH2PHYS_VIRT_START 0xffff800000000000ULL
#define XEN_MACH2PHYS_VIRT_END 0xffff804000000000ULL
#define XEN_SEGBASE_FS 0
#define XEN_SEGBASE_GS_USER 1
#define XEN_SEGBASE_GS_KERNEL 2
#define XEN_SEGBASE_GS_USER_SEL 3
#define XEN_VGCF_in_syscall (1u << 8)
#define XEN_FIRST_RESERVED_GDT_PAGE 14 /* arch-x86/xen.h */

/* ---- start of day: xen.h struct start_info ---- */
#define XEN_START_INFO_MAGIC "xen-3.0-x86_64" /* a 64-bit PV guest's guest type */
#define XEN_MAX_GUEST_CMDLINE 1024
struct xen_start_info {
    char magic[32];
    uint64_t nr_pages;
    uint64_t shared_info; /* machine address of the shared-info page */
    uint32_t flags;       /* XEN_SIF_* */
    uint32_t pad0;
    uint64_t store_mfn;
    uint32_t store_evtchn;
    uint32_t pad1;
    uint64_t console_mfn; /* console.domU.mfn */
    uint32_t console_evtchn;
    uint32_t pad2;
    uint64_t pt_base;      /* virtual address of the initial L4 */
    uint64_t nr_pt_frames; /* frames of the initial page tables */
    uint64_t mfn_list;     /* virtual address of the P2M list */
    uint64_t mod_start, mod_len;
    char cmd_line[XEN_MAX_GUEST_CMDLINE];
    uint64_t first_p2m_pfn, nr_p2m_frames;
};
_Static_assert(sizeof(struct xen_start_info) == 1168, "start_info");
_Static_assert(offsetof(struct xen_start_info, nr_pages) == 32, "start_info.nr_pages");
_Static_assert(offsetof(struct xen_start_info, flags) == 48, "start_info.flags");
_Static_assert(offsetof(struct xen_start_info, store_evtchn) == 64, "start_info.store_evtchn");
_Static_assert(offsetof(struct xen_start_info, console_mfn) == 72, "start_info.console");
_Static_assert(offsetof(struct xen_start_info, console_evtchn) == 80, "start_info.console.evtchn");
_Static_assert(offsetof(struct xen_start_info, pt_base) == 88, "start_info.pt_base");
_Static_assert(offsetof(struct xen_start_info, mfn_list) == 104, "start_info.mfn_list");
_Static_assert(offsetof(struct xen_start_info, cmd_line) == 128, "start_info.cmd_line");
_Static_assert(offsetof(struct xen_start_info, first_p2m_pfn) == 1152, "start_info.first_p2m_pfn");

/* ---- xen.h: shared_info, vcpu_info, vcpu_time_info ---- */
struct xen_vcpu_time_info {
    uint32_t version; /* odd while the record is being written */
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time; /* ns */
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags; /* bit 0: XEN_PVCLOCK_TSC_STABLE */
    uint8_t pad1[2];
};
_Static_assert(sizeof(struct xen_vcpu_time_info) == 32, "vcpu_time_info");
#define XEN_PVCLOCK_TSC_STABLE 1u

struct xen_vcpu_info {
    uint8_t evtchn_upcall_pending;
    uint8_t evtchn_upcall_mask;
    uint8_t pad0[6];
    uint64_t evtchn_pending_sel;
    uint64_t arch_cr2; /* arch-x86/xen.h arch_vcpu_info */
    uint64_t arch_pad;
    struct xen_vcpu_time_info time;
};
_Static_assert(sizeof(struct xen_vcpu_info) == 64, "vcpu_info");
_Static_assert(offsetof(struct xen_vcpu_info, evtchn_pending_sel) == 8, "vcpu_info.pending_sel");
_Static_assert(offsetof(struct xen_vcpu_info, arch_cr2) == 16, "vcpu_info.arch.cr2");
_Static_assert(offsetof(struct xen_vcpu_info, time) == 32, "vcpu_info.time");

struct xen_shared_info {
    struct xen_vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    uint64_t evtchn_pending[64]; /* 2-level event ABI: 4096 ports on x86-64 */
    uint64_t evtchn_mask[64];
    uint32_t wc_version, wc_sec, wc_nsec, wc_sec_hi;
    /* arch-x86/xen.h arch_shared_info */
    uint64_t max_pfn, pfn_to_mfn_frame_list_list, nmi_reason, p2m_cr3, p2m_vaddr, p2m_generation;
};
_Static_assert(sizeof(struct xen_shared_info) == 3136, "shared_info");
_Static_assert(offsetof(struct xen_shared_info, evtchn_pending) == 2048, "shared_info.evtchn_pending");
_Static_assert(offsetof(struct xen_shared_info, evtchn_mask) == 2560, "shared_info.evtchn_mask");
_Static_assert(offsetof(struct xen_shared_info, wc_version) == 3072, "shared_info.wc_version");
_Static_assert(offsetof(struct xen_shared_info, wc_sec_hi) == 3084, "shared_info.wc_sec_hi");
_Static_assert(offsetof(struct xen_shared_info, max_pfn) == 3088, "shared_info.arch");

/* ---- arch-x86/xen.h struct trap_info; arch-x86/xen-x86_64.h iret_context ---- */
struct xen_trap_info {
    uint8_t vector;
    uint8_t flags; /* bits 0-1 DPL, bit 2 mask events */
    uint16_t cs;
    uint32_t pad;
    uint64_t address;
};
_Static_assert(sizeof(struct xen_trap_info) == 16, "trap_info");

struct xen_iret_context {
    uint64_t rax, r11, rcx, flags, rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct xen_iret_context) == 72, "iret_context");
_Static_assert(offsetof(struct xen_iret_context, rip) == 32, "iret_context.rip");

/* ---- xen.h struct mmu_update, mmuext_op, multicall_entry ---- */
struct xen_mmu_update {
    uint64_t ptr, val;
};
_Static_assert(sizeof(struct xen_mmu_update) == 16, "mmu_update");
struct xen_mmuext_op {
    uint32_t cmd;
    uint32_t pad;
    uint64_t arg1; /* mfn or linear_addr */
    uint64_t arg2; /* nr_ents, vcpumask or src_mfn */
};
_Static_assert(sizeof(struct xen_mmuext_op) == 24, "mmuext_op");
struct xen_multicall_entry {
    uint64_t op, result, args[6];
};
_Static_assert(sizeof(struct xen_multicall_entry) == 64, "multicall_entry");

/* ---- callback.h ---- */
enum {
    XEN_CALLBACKTYPE_event = 0, XEN_CALLBACKTYPE_failsafe = 1, XEN_CALLBACKTYPE_syscall = 2,
    XEN_CALLBACKTYPE_nmi = 4, XEN_CALLBACKTYPE_sysenter = 5, XEN_CALLBACKTYPE_syscall32 = 7,
};
#define XEN_CALLBACKF_mask_events 1u
#define XEN_CALLBACKOP_register 0
#define XEN_CALLBACKOP_unregister 1
struct xen_callback_register {
    uint16_t type, flags;
    uint32_t pad;
    uint64_t address;
};
_Static_assert(sizeof(struct xen_callback_register) == 16, "callback_register");

/* ---- sched.h ---- */
enum {
    XEN_SCHEDOP_yield = 0, XEN_SCHEDOP_block = 1, XEN_SCHEDOP_shutdown = 2, XEN_SCHEDOP_poll = 3,
    XEN_SCHEDOP_remote_shutdown = 4, XEN_SCHEDOP_shutdown_code = 5,
};
enum {
    XEN_SHUTDOWN_poweroff = 0, XEN_SHUTDOWN_reboot = 1, XEN_SHUTDOWN_suspend = 2,
    XEN_SHUTDOWN_crash = 3, XEN_SHUTDOWN_watchdog = 4, XEN_SHUTDOWN_soft_reset = 5,
};
struct xen_sched_poll {
    uint64_t ports; /* guest handle of uint32_t ports */
    uint32_t nr_ports;
    uint32_t pad;
    uint64_t timeout;
};
_Static_assert(sizeof(struct xen_sched_poll) == 24, "sched_poll");

/* ---- vcpu.h ---- */
enum {
    XEN_VCPUOP_initialise = 0, XEN_VCPUOP_up = 1, XEN_VCPUOP_down = 2, XEN_VCPUOP_is_up = 3,
    XEN_VCPUOP_get_runstate_info = 4, XEN_VCPUOP_set_periodic_timer = 6,
    XEN_VCPUOP_stop_periodic_timer = 7, XEN_VCPUOP_set_singleshot_timer = 8,
    XEN_VCPUOP_stop_singleshot_timer = 9, XEN_VCPUOP_register_vcpu_info = 10,
};

/* ---- event_channel.h ---- */
enum {
    XEN_EVTCHNOP_bind_interdomain = 0, XEN_EVTCHNOP_bind_virq = 1, XEN_EVTCHNOP_bind_pirq = 2,
    XEN_EVTCHNOP_close = 3, XEN_EVTCHNOP_send = 4, XEN_EVTCHNOP_status = 5,
    XEN_EVTCHNOP_alloc_unbound = 6, XEN_EVTCHNOP_bind_ipi = 7, XEN_EVTCHNOP_bind_vcpu = 8,
    XEN_EVTCHNOP_unmask = 9, XEN_EVTCHNOP_reset = 10, XEN_EVTCHNOP_init_control = 11,
    XEN_EVTCHNOP_expand_array = 12, XEN_EVTCHNOP_set_priority = 13,
};
enum {
    XEN_EVTCHNSTAT_closed = 0, XEN_EVTCHNSTAT_unbound = 1, XEN_EVTCHNSTAT_interdomain = 2,
    XEN_EVTCHNSTAT_pirq = 3, XEN_EVTCHNSTAT_virq = 4, XEN_EVTCHNSTAT_ipi = 5,
};

/* ---- io/console.h ---- */
struct xen_console_interface {
    char in[1024];
    char out[2048];
    uint32_t in_cons, in_prod, out_cons, out_prod; /* free-running, masked by the size */
    uint8_t connection; /* newer headers: backend connection state (0 connected) */
    uint8_t pad[3];
};
_Static_assert(sizeof(struct xen_console_interface) == 3092, "xencons_interface");
_Static_assert(offsetof(struct xen_console_interface, out_cons) == 3080, "xencons.out_cons");

/* ---- version.h ---- */
enum {
    XEN_XENVER_version = 0, XEN_XENVER_extraversion = 1, XEN_XENVER_compile_info = 2,
    XEN_XENVER_capabilities = 3, XEN_XENVER_changeset = 4, XEN_XENVER_platform_parameters = 5,
    XEN_XENVER_get_features = 6, XEN_XENVER_pagesize = 7, XEN_XENVER_guest_handle = 8,
    XEN_XENVER_commandline = 9,
};
/* The version hv claims to be (docs/plans/xen-personality.md, the lead's
 * decision 3): the Xen column of docs/benchmarks.md. */
#define XEN_CLAIMED_MAJOR 4
#define XEN_CLAIMED_MINOR 17

/* ---- errno.h (Xen returns them negated) ---- */
enum {
    XEN_EPERM = 1, XEN_ENOENT = 2, XEN_ESRCH = 3, XEN_EAGAIN = 11, XEN_ENOMEM = 12,
    XEN_EFAULT = 14, XEN_EBUSY = 16, XEN_EEXIST = 17, XEN_ENODEV = 19, XEN_EINVAL = 22,
    XEN_ENOSPC = 28, XEN_ENOSYS = 38, XEN_ENODATA = 61, XEN_ETIME = 62, XEN_EOPNOTSUPP = 95,
    XEN_ETIMEDOUT = 110,
};

/* ---- x86 page-table entry bits as Xen's PV builder writes them ---- */
#define XEN_PTE_L1_FLAGS 0x23ULL    /* P|RW|A */
#define XEN_PTE_UPPER_FLAGS 0x67ULL /* P|RW|U|A|D (L2, L3, L4) */
