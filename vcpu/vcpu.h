/* The virtual CPU control block, as the seeds describe it: identity (id,
 * owning guest), register context (general registers, segment state, the
 * FPU/SSE/AVX area), scheduling state, and an arch part with the saved user
 * registers and pending trap information. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/trap.h"
#include "hv/sched/sched_cpu.h"
#include "include/hv/abi.h"

struct pt_space;

struct guest;

enum vcpu_state { VCPU_RUNNING, VCPU_RUNNABLE, VCPU_BLOCKED, VCPU_DEAD };

/* The last delivery to a handler (vcpu/deliver.c): where it entered the
 * guest and what it delivered. hv does not walk the guest's tables to see
 * whether the handler is mapped executable; the guest's own fetch of its
 * first instruction finds out, and a #PF on exactly that fetch (rip and
 * rsp as the delivery left them) is the delivery's failure, reported as
 * such (vcpu/guest_trap.c). Cleared by HV_CALL_IRET. */
struct last_delivery {
    uint64_t rip, rsp; /* rip 0: none to check */
    uint32_t what;     /* DELIVER_WHAT() of vcpu/deliver.h */
};

struct trap_table;

struct arch_vcpu {
    /* The vCPU's registers, always here: every entry from its guest
     * pushes them here (the CPU's TSS.RSP0 and the syscall entry's stack
     * point at this frame's end while it runs: percpu kernel_rsp, set at
     * its switch-in), and every return to it leaves from here, so neither
     * vcpu_save nor vcpu_load copies them. */
    struct trap_frame regs;
    uint16_t ds, es, fs, gs; /* segment selectors the guest may have loaded */
    void *fpu;               /* XSAVE (or FXSAVE) area, 64-byte aligned */
    struct last_delivery delivery;
    /* The paravirtual CPU (include/hv/abi_cpu.h). */
    struct trap_table *traps; /* NULL until the guest registers one */
    uint64_t syscall_handler; /* for `syscall` in guest user mode; 0: none */
    uint64_t kernel_sp;       /* stack for entries from guest user mode; 0: none */
    bool user_mode;           /* in guest user mode (its own page tables) */
    bool xen;                 /* Xen PV personality (hv/xen/xen.h): fixed at load */
    uint8_t syscall_flags;    /* here, not by its handler: no hole (guest_overhead_bytes) */
    uint32_t user_space;      /* the user space user mode runs in; 0: none chosen */
    uint64_t hv_entries;      /* entries into hv the guest caused */
    /* The selectors it runs on, in kernel and user mode: hv's (0x23, 0x3b;
     * 0x1b) or, for a Xen vCPU, Xen's (0xe033 in both; 0xe02b). */
    uint16_t mode_cs[2], mode_ss;
    /* Its GS base: 0 for hv's own vCPUs, whatever a Xen vCPU's kernel set
     * (hv/xen/xen_emul.c), always a lower-half address (hv/cpu/gs_base.h). */
    uint64_t gs_base;
    /* The version of its guest's own GDT entries (hv/xen/xen_gdt.c): 0
     * for hv's own vCPUs and a Xen vCPU that installed none. */
    uint64_t gdt_version;
};

#define VCPU_POLL_MAX 16
#define NO_PORT 0xffff

/* What a vCPU waits for and is woken by (hv/event/). */
struct vcpu_events {
    uint64_t upcall;                 /* entry for event upcalls; 0: none */
    uint16_t virq_port[HV_VIRQ_COUNT]; /* NO_PORT when unbound */
    uint64_t timer_deadline;         /* HV_CALL_SET_TIMER, system ns; 0: none */
    bool polling;                    /* blocked in HV_CALL_POLL */
    uint8_t poll_count;
    uint16_t poll_ports[VCPU_POLL_MAX];
    uint64_t poll_deadline;          /* 0: none */
};

/* Laid out without holes, so it stays within kmalloc's 512-byte class
 * (guest_overhead_bytes: one byte past it takes 1,024). */
struct vcpu {
    uint32_t id;
    enum vcpu_state state;
    struct guest *guest;
    struct vcpu *run_next;  /* run-queue link */
    uint64_t cpu_time_ns;   /* time run so far */
    uint64_t running_since; /* when it last got the CPU */
    uint64_t stack_top;     /* guest-virtual */
    struct arch_vcpu arch;
    struct vcpu_events ev;
    /* After the fields vcpu/iret_fast.h names by offset. */
    uint32_t cpu;                /* the CPU it runs on (index), placed at its guest's load */
    struct sched_entity *ent;    /* its guest's entity on that CPU */
    struct sched_entity own_ent; /* that entity, if it is its guest's first vCPU there */
    /* What another CPU asked of it (VCPU_REQ_*, set with an atomic or) and
     * its link in its CPU's wake list (hv/sched/cross_cpu.c); `queued`:
     * on that list now, taken with an exchange so it is pushed once. */
    uint32_t remote_req;
    bool queued;
    struct vcpu *wake_next;
    uint64_t moved_ns; /* when load balancing last moved it (hv/sched/balance.c); 0: never */
};

/* The CPU aligns RSP down to 16 bytes before it pushes a ring-3 entry's
 * frame: the frame's end must be 16-byte aligned (kmalloc aligns a vCPU to
 * its 512-byte class), or the pushes would miss it. */
_Static_assert((__builtin_offsetof(struct vcpu, arch.regs) + sizeof(struct trap_frame)) % 16 == 0,
               "arch.regs ends 16-byte aligned");

/* A vCPU that will enter the guest at `entry` with the ABI's initial state. */
struct vcpu *vcpu_create(struct guest *g, uint32_t id, uint64_t entry, uint64_t stack_top,
                         uint64_t start_info);
void vcpu_destroy(struct vcpu *v);

/* The root of the page tables the vCPU runs on now (kernel or user space). */
const struct pt_space *vcpu_space(const struct vcpu *v);
/* Its code selector for the mode it is in. */
uint64_t vcpu_mode_cs(const struct vcpu *v);
/* Sets the GS base of v, the vCPU running here (a lower-half value). */
void vcpu_set_gs_base(struct vcpu *v, uint64_t base);
void vcpu_set_fs_base(struct vcpu *v, uint64_t base);

/* Moving guest state between a vCPU and the CPU. vcpu_save: the rest of
 * the running vCPU's state off the CPU; its registers are in its own
 * arch.regs already, where every entry from its guest pushes them (the
 * CPU's frame, percpu `frame`, is set only by the switch that makes it
 * current, to vcpu_load's answer: hv/sched/sched.c entry_frame_set; the
 * IST entries from a guest move their frame there, hv/cpu/isr.S).
 * vcpu_load: the rest of v's state onto the CPU, and v's own frame
 * (arch.regs, selectors set) returned for the exit to leave from and the
 * entries to push to (switch_to): no copy of the registers. */
void vcpu_save(struct vcpu *v);
struct trap_frame *vcpu_load(struct vcpu *v);
/* Leaves to the guest from f (vcpu/enter.S): f becomes the stack, the
 * common exit (hv/cpu/isr.S trap_return) pops it; whatever was on the
 * stack before is dropped. */
void enter_guest_frame(struct trap_frame *f) __attribute__((noreturn));
/* The same from the running vCPU's frame (percpu frame: switch_to's). */
void trap_return_frame(void) __attribute__((noreturn));
/* This CPU's GDT given v's own entries (a Xen vCPU's) or none, and v's
 * saved selectors made loadable: vcpu_load's cold part. */
void vcpu_load_descriptors(struct vcpu *v);

#define RFLAGS_GUEST_MASK 0x00240fd5ull /* CF PF AF ZF SF TF DF OF AC ID */
#define RFLAGS_RESERVED_1 0x2ull

/* RFLAGS a guest may hold: arithmetic flags, TF, DF, AC, ID; IF always set,
 * IOPL 0, no NT, VM, RF. Applied as the last step of every return to a
 * guest (sched_return_to_guest), whoever wrote the frame, and to flags a
 * guest wrote into a frame as they are taken (vcpu/deliver.c). */
static inline uint64_t vcpu_sanitize_rflags(uint64_t rflags)
{
    return (rflags & RFLAGS_GUEST_MASK) | (1ull << 9) /* IF */ | RFLAGS_RESERVED_1;
}

static inline bool frame_from_guest(const struct trap_frame *f)
{
    return (f->cs & 3) == 3;
}
