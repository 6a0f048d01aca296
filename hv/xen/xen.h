/* hv's Xen PV personality: the per-guest state and the entry points the
 * rest of hv calls (docs/xen-personality.md). A guest is a Xen PV guest
 * when its image carries Xen's notes (guest-loader/loader_xen.c); its
 * vCPUs then have arch.xen set, and their hypercalls and exceptions come
 * here instead of to hv's own ABI. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/xen/xen_abi.h"
#include "hv/xen/xen_elf.h"
#include "hv/xen/xen_layout.h"

struct guest;
struct vcpu;
struct trap_frame;

/* Machine frame numbers above every guest's RAM name hv's own frames for
 * a Xen guest (it never sees a real frame number): the shared-info page. */
#define XEN_MFN_SPECIAL 0x80000000ULL
#define XEN_MFN_SHARED_INFO (XEN_MFN_SPECIAL + 0)
#define XEN_MFN_GRANT (XEN_MFN_SPECIAL + 1) /* + 0..XEN_GRANT_FRAMES-1: its grant-table frames */
#define XEN_GRANT_FRAMES 4 /* Mini-OS asks for 4 */
/* The console's event-channel port in start_info (hv is the backend). */
#define XEN_CONSOLE_PORT 1

#define XEN_MAX_PAGES 16384 /* 64 MiB of RAM: 32 p2m frames */
#define XEN_P2M_PER_FRAME 512
#define XEN_TRAP_VECTORS 256
#define XEN_PORTS 256 /* event-channel ports: words 0-3 of Xen's 2-level bitmaps */
#define XEN_ECHO_BYTES 1024
#define XEN_NR_VIRQS 24 /* xen.h NR_VIRQS */
/* The entries of a guest's GDT hv installs (hv/xen/xen_gdt.c): 8-15,
 * right above hv's own eight in page 0 of the CPU's GDT window. */
#define XEN_GDT_OWN_FIRST 8
#define XEN_GDT_OWN_END 16
#define XEN_GDT_OWN_COUNT (XEN_GDT_OWN_END - XEN_GDT_OWN_FIRST)
_Static_assert(XEN_PORTS <= 256, "a port fits virq_port's byte");

/* Per guest; a Xen guest has one vCPU, whose Xen state lives here too. */
struct xen_guest {
    struct xen_layout layout; /* the start of day (hv/xen/xen_layout.h) */
    uint64_t nr_pages;        /* start_info.nr_pages: pfns 0 .. nr_pages-1 */
    /* The real frame of each pfn (hv holds a reference to each), 512 to a
     * frame charged to the guest: xen_p2m_slot() finds one. */
    uint64_t p2m_dir[XEN_MAX_PAGES / XEN_P2M_PER_FRAME];
    uint64_t pt_info_dir;     /* per-pfn page-table records (hv/xen/xen_mmu.c) */
    uint64_t free_next;       /* reaping: the next pfn whose reference goes back */
    uint64_t shared_info_pa;  /* the Xen-layout shared-info frame (hv's reference) */
    uint64_t m2p_l3, m2p_l2, m2p_l1; /* the M2P's tables (its frames are the L1's leaves) */
    uint64_t hypercall_page;  /* va of the page hv wrote the stubs into; 0: none */
    uint32_t shutdown_code;   /* SCHEDOP_shutdown_code */
    bool user_root;           /* MMUEXT_NEW_USER_BASEPTR named its (one) root */
    uint64_t ports[XEN_PORTS / 64]; /* event-channel ports in use (hv/xen/xen_event.c) */
    uint8_t virq_port[XEN_NR_VIRQS];  /* the port bound to each VIRQ; 0: none */
    uint64_t ipi_ports[XEN_PORTS / 64]; /* ports bound by bind_ipi (to vCPU 0) */
    uint64_t unbound_self[XEN_PORTS / 64]; /* alloc_unbound for itself, not dom0 */
    /* Timers (hv/xen/xen_timer.c), in system ns; 0: none. Xen's two
     * timers and a poll's timeout share hv's one vCPU timer. */
    uint64_t timer_single;        /* set_timer_op, VCPUOP_set_singleshot_timer */
    uint64_t timer_period;        /* VCPUOP_set_periodic_timer (Xen's 10 ms at start) */
    uint64_t timer_periodic_next; /* the periodic timer's next tick; 0: not counting */
    uint64_t poll_deadline;       /* SCHEDOP_poll's timeout while it polls */
    /* The vCPU's paravirtual CPU. */
    /* set_trap_table: the handler's address (lower half: bits 0-46) with
     * Xen's flags (DPL in bits 0-1, bit 2: mask events) in bits 56-58,
     * one word a vector (xen_trap_handler, xen_trap_flags); 0: none. */
    uint64_t trap[XEN_TRAP_VECTORS];
    uint64_t callback[8];                    /* by CALLBACKTYPE_*; 0: none */
    uint16_t callback_flags[8];
    uint64_t gdt_frames[XEN_FIRST_RESERVED_GDT_PAGE];
    uint32_t gdt_entries;                    /* set_gdt's (hv/xen/xen_gdt.c) */
    uint64_t gdt_own[XEN_GDT_OWN_COUNT];     /* its entries hv installs, checked */
    uint64_t cr2;
    /* The virtual debug registers (hv/xen/xen_emul.c): never loaded. */
    uint64_t dr[4];
    uint32_t dr6, dr7, dr7_io; /* dr7_io: I/O breakpoints' enables, emulated */
    bool cr4_de;               /* the guest's CR4.DE */
    bool cr4_fsgsbase;         /* the guest's CR4.FSGSBASE: rd/wr{fs,gs}base emulated */
    uint64_t gs_other;         /* the GS base of the mode not running (Xen's gs_base_user) */
    /* One of its installed entries ever had a base (hv/xen/xen_gdt.c):
     * a selector load may then have given GS a base hv did not set. */
    bool selector_bases;
    /* Its one vCPU's FS base (hv's own vCPUs have 0; kept here, not in
     * struct vcpu, which a field more takes past its 512-byte class):
     * what its kernel set (wrmsr FS_BASE, set_segment_base, wrfsbase) or
     * read back at its last switch-out, a canonical address (hv never
     * uses FS); vcpu/vcpu.c loads and saves it. */
    uint64_t fs_base;
    /* The last demand W^X flip (hv/xen/xen_trap.c): the instruction, the
     * page, and whether it made the page writable. */
    uint64_t flip_rip, flip_page;
    bool flip_write;
    /* The console's echo window: the bytes one of console_io and the ring
     * printed last, which a guest writing both (XTF: console_io first;
     * Unikraft: the ring first, piece by piece) puts through the other. */
    char echo[XEN_ECHO_BYTES];
    uint32_t echo_len;
    bool echo_ring;            /* the window's bytes came from the ring (else console_io) */
};

#define XEN_TRAP_FLAGS_SHIFT 56
/* One vector's entry, read once: set_trap_table rewrites entries while the
 * guest's other vCPUs deliver through them, so a reader takes the handler
 * and the flags from one load (never one entry's handler with another's
 * flags) and the writer stores each entry whole (xen_trap_set). */
static inline uint64_t xen_trap_entry(const struct xen_guest *x, uint8_t vector)
{
    return __atomic_load_n(&x->trap[vector], __ATOMIC_RELAXED);
}
static inline void xen_trap_set(struct xen_guest *x, uint8_t vector, uint64_t entry)
{
    __atomic_store_n(&x->trap[vector], entry, __ATOMIC_RELAXED);
}
static inline uint64_t xen_trap_handler(uint64_t entry)
{
    return entry & ((1ULL << XEN_TRAP_FLAGS_SHIFT) - 1);
}
static inline unsigned xen_trap_flags(uint64_t entry)
{
    return (unsigned)(entry >> XEN_TRAP_FLAGS_SHIFT);
}

/* The struct lives in a frame charged to the guest (review finding 3:
 * not hv's heap), as do its p2m frames. */
_Static_assert(sizeof(struct xen_guest) <= 4096, "struct xen_guest is one charged frame");

/* The p2m slot of pfn (clamped below nr_pages: callers check first). */
uint64_t *xen_p2m_slot(const struct xen_guest *x, uint64_t pfn);

/* Builds guest g (created, empty) from the validated Xen image: its RAM,
 * the start-of-day layout with start_info, P2M list, initial page tables,
 * boot stack and hypercall page, its one vCPU. false with `why` if not
 * (the caller discards g). */
bool xen_build(struct guest *g, const struct xen_image *img, const uint8_t *file, char *why,
               size_t why_len);
/* Frees what xen_build gave the guest besides its address space, in
 * bounded steps (called from the guest's reaping, hv/guest/guest.c, after
 * its address space is gone): true once all is given back. */
bool xen_guest_free(struct guest *g);

/* event_channel_op (hv/xen/xen_event.c); its result. */
int64_t xen_event_channel_op(struct vcpu *v, struct trap_frame *f, bool *again);
/* One hypercall but iret on frame f (its number in rax, arguments in
 * rdi, rsi, rdx, r10, r8): the result, or *again with the argument
 * registers rewritten to what is left (hv/xen/xen_hypercall.c). */
int64_t xen_dispatch(struct vcpu *v, struct trap_frame *f, bool *again);
/* multicall (hv/xen/xen_multicall.c), through xen_dispatch. */
int64_t xen_multicall(struct vcpu *v, struct trap_frame *f, bool *again);
/* Privileged instructions at a #GP in kernel mode (hv/xen/xen_emul.c):
 * true if emulated (rip moved on); false leaves the exception in f (a
 * refused debug register may have become a #UD) for the guest. */
bool xen_emulate_priv(struct vcpu *v, struct trap_frame *f);
bool xen_emulate_fsgsbase(struct vcpu *v, struct trap_frame *f);
/* A #DB the CPU raised in the guest: its status bits (single step,
 * breakpoints) into the virtual DR6 the guest reads, as Xen does. */
void xen_debug_status(struct vcpu *v, uint64_t dr6);
int64_t xen_set_debugreg(struct vcpu *v, uint64_t reg, uint64_t value);
int64_t xen_get_debugreg(struct vcpu *v, uint64_t reg, uint64_t *value);
int64_t xen_set_segment_base(struct vcpu *v, uint64_t which, uint64_t base);
/* The guest's mode changes: the other mode's GS base becomes the CPU's. */
void xen_gs_mode_switch(struct vcpu *v);
/* The virtual CPU's state at start (debug registers, the 100 Hz timer). */
void xen_cpu_init(struct xen_guest *x);
/* A hypercall from a Xen guest's kernel (vcpu/syscall.c). */
void xen_hypercall(struct vcpu *v, struct trap_frame *f);
/* An exception from a Xen guest (vcpu/guest_trap.c); cr2 for a #PF. */
void xen_exception(struct vcpu *v, struct trap_frame *f, uint64_t cr2);
/* set_gdt and update_descriptor (hv/xen/xen_gdt.c); their results. */
int64_t xen_set_gdt(struct vcpu *v, uint64_t list_va, uint64_t entries);
int64_t xen_update_descriptor(struct vcpu *v, uint64_t maddr, uint64_t desc);
/* vcpu_load's cold part: v's installed entries into this CPU's GDT page
 * (or cleared), its saved data selectors made loadable, its FS base. */
void xen_gdt_load(struct vcpu *v, uint64_t *gdt, uint64_t *cpu_version);
/* set_segment_base(FS), wrmsr FS_BASE: false for a base outside the lower half. */
/* Whether cs is a 64-bit code entry of v's own (RPL 3), installed here. */
bool xen_gdt_own_code(const struct vcpu *v, uint64_t cs);
/* HYPERVISOR_iret (hv/xen/xen_trap.c): the frame at rsp, no result. */
void xen_iret(struct vcpu *v, struct trap_frame *f);
/* Xen's bounce frame onto the kernel stack, entering `handler`; false if
 * the stack cannot take it. */
#define XB_ERROR_CODE 1u  /* the frame has the error code */
#define XB_MASK_EVENTS 2u /* the handler runs with events masked */
#define XB_CLEAR_DF 4u    /* the syscall callback: DF cleared too */
#define XB_FAILSAFE 8u    /* the failsafe frame: ds, es, fs, gs above rcx, r11 */
bool xen_bounce(struct vcpu *v, struct trap_frame *f, uint64_t handler, unsigned how);
/* Events (hv/xen/xen_upcall.c). The return to the guest found hv's
 * upcall flag set on its private page (vcpu/deliver.c): hv's events
 * become the Xen ports', and the event callback is entered if due. */
void xen_upcall(struct vcpu *v, struct trap_frame *f);
/* Enters the event callback if an upcall is pending and not masked
 * (the end of every hypercall: an unmask, a block, an iret). */
void xen_events_deliver(struct vcpu *v, struct trap_frame *f);
/* Timers, block and poll (hv/xen/xen_timer.c). */
#define XEN_TIMER_DEFAULT_PERIOD_NS 10000000ULL /* Xen's 100 Hz tick for PV vCPUs */
int64_t xen_set_timer_op(struct vcpu *v, uint64_t timeout);
int64_t xen_block(struct vcpu *v);
int64_t xen_poll(struct vcpu *v, uint64_t arg);
/* A poll ended: its timeout no longer counts (the next hypercall). */
void xen_poll_end(struct vcpu *v);
int64_t xen_vcpu_op(struct vcpu *v, struct trap_frame *f);
/* Arms hv's vCPU timer for the earliest Xen deadline; false if hv's
 * timer port cannot be bound. */
bool xen_timer_arm(struct vcpu *v);
/* hv's timer fired: the Xen timers due at `now` send VIRQ_TIMER. */
void xen_timers_due(struct vcpu *v, uint64_t now);
/* Makes the Xen VIRQ_TIMER port pending, if one is bound. */
void xen_timer_event(struct vcpu *v);
/* Takes what hv's core raised on the private page into the Xen page. */
void xen_take_hv_events(struct vcpu *v);
/* vcpu_info[0].time and the wall clock from hv's clock, now. */
void xen_time_refresh(struct guest *g);
/* `syscall` from the guest's user mode (vcpu/syscall.c). */
void xen_syscall_from_user(struct vcpu *v, struct trap_frame *f);
