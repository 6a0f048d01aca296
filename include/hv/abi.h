/* The hv guest ABI, version 2: everything a guest and the hypervisor agree
 * on. One header, shared by hv and the guest SDK; docs/abi.md explains it.
 *
 * Hypercalls: the guest executes `syscall` with
 *     rax = hypercall number, arguments in rdi, rsi, rdx, r10, r8, r9
 * and gets the result in rax: >= 0 success, < 0 a negated HV_E* code.
 * rcx and r11 are clobbered (the instruction itself uses them); every other
 * register is preserved. */
#pragma once

#include <stdint.h>

#define HV_ABI_VERSION 2

/* Hypercall numbers. */
enum hv_hypercall {
    HV_CALL_CONSOLE_WRITE = 0, /* (const char *buf, uint64_t len) -> bytes taken */
    HV_CALL_EXIT = 1,          /* (int64_t status): ends the whole guest; no return */
    HV_CALL_YIELD = 2,         /* () -> 0: give the CPU to the next vCPU */
    HV_CALL_GUEST_INFO = 3,    /* (struct hv_guest_info *out) -> 0 */
    HV_CALL_VCPU_INFO = 4,     /* (uint64_t vcpu_id, struct hv_vcpu_info *out) -> 0 */
    HV_CALL_VCPU_EXIT = 5,     /* (): ends the calling vCPU only; the guest ends with its last */
    HV_CALL_NOP = 6,           /* () -> 0: does nothing; the cost of the hypercall path itself */
    /* The paravirtual CPU (include/hv/abi_cpu.h) */
    HV_CALL_SET_TRAP_TABLE = 7,    /* (const struct hv_trap_info *t, uint64_t n) -> 0 */
    HV_CALL_SET_SYSCALL = 8,       /* (uint64_t handler, uint64_t flags) -> 0 */
    HV_CALL_SET_KERNEL_STACK = 9,  /* (uint64_t rsp) -> 0 */
    HV_CALL_IRET = 10,             /* (): frame at the guest's rsp; does not return */
    HV_CALL_USER_SPACE_CREATE = 11,  /* () -> handle (1..) */
    HV_CALL_USER_SPACE_DESTROY = 12, /* (uint64_t handle) -> 0, or HV_CONTINUE: call again */
    HV_CALL_SET_USER_SPACE = 13,   /* (uint64_t handle) -> 0: the space user mode runs in */
    HV_CALL_MEM_MAP = 14,      /* (space, va, pages, src_va, prot) -> pages handled (>= 1) */
    HV_CALL_MEM_UNMAP = 15,    /* (space, va, pages) -> pages dealt with (>= 1) */
    HV_CALL_MEM_PROTECT = 16,  /* (space, va, pages, prot) -> pages handled (>= 1) */
    /* Events and time (include/hv/abi_event.h) */
    HV_CALL_SET_UPCALL = 17,          /* (uint64_t entry) -> 0: this vCPU's event upcall */
    HV_CALL_EVTCHN_BIND_VIRQ = 18,    /* (uint64_t virq) -> port, notifying this vCPU */
    HV_CALL_EVTCHN_ALLOC_UNBOUND = 19, /* (const char *peer_name) -> port */
    HV_CALL_EVTCHN_BIND_PEER = 20,    /* (const char *peer_name, uint64_t peer_port) -> port */
    HV_CALL_EVTCHN_BIND_IPI = 21,     /* (uint64_t vcpu) -> port notifying that vCPU */
    HV_CALL_EVTCHN_SEND = 22,         /* (uint64_t port) -> 0 */
    HV_CALL_EVTCHN_CLOSE = 23,        /* (uint64_t port) -> 0 */
    HV_CALL_EVTCHN_UNMASK = 24,       /* (uint64_t port) -> 0: delivers if pending */
    HV_CALL_EVTCHN_STATUS = 25,       /* (uint64_t port, struct hv_evtchn_status *out) -> 0 */
    HV_CALL_BLOCK = 26,               /* (): unmask events and sleep until one is pending */
    HV_CALL_POLL = 27,                /* (const uint32_t *ports, uint64_t n, uint64_t deadline_ns) -> 0 or -HV_ETIMEDOUT */
    HV_CALL_SET_TIMER = 28,           /* (uint64_t deadline_ns) -> 0; 0 cancels */
    HV_CALL_CONSOLE_READ = 29,        /* (char *buf, uint64_t len) -> bytes read (0: none waiting) */
    /* (uint64_t guest_id, uint64_t first, struct hv_health_entry *buf, uint64_t n)
     * -> entries copied; only with hv.cfg `monitor = yes` (else -HV_EPERM) */
    HV_CALL_HEALTH_READ = 30,
    HV_CALL_COUNT
};

/* Error codes (returned negated). Numbers follow Linux errno for familiarity. */
#define HV_EPERM 1
#define HV_ENOENT 2
#define HV_EFAULT 14   /* a pointer argument is not valid guest memory */
#define HV_EINVAL 22   /* an argument is out of range */
#define HV_ENOSYS 38   /* no such hypercall */
#define HV_EAGAIN 11   /* try again later (e.g. console rate limit) */
#define HV_ENOMEM 12   /* not enough memory (the guest's allowance or the machine's) */
#define HV_EBUSY 16    /* in use (e.g. destroying the user space a vCPU runs in) */
#define HV_EEXIST 17   /* already mapped */
/* (HV_EPERM also: a mapping that would make a frame writable and executable,
 * or a mapping above its maximum protections: docs/abi.md, Memory operations) */
#define HV_ESRCH 3     /* no such peer guest */
#define HV_ETIMEDOUT 110

/* Most bytes one console write takes; the rest is for the next call. */
#define HV_CONSOLE_WRITE_MAX 256

/* Initial state of every vCPU, entered at ring 3 at the ELF entry point:
 *     rdi = address of the guest's struct hv_start_info (read-only page)
 *     rsi = this vCPU's id (0 .. vcpu_count - 1)
 *     rsp = top of this vCPU's stack, 16-byte aligned (minus 8, as after a call)
 *     rflags = IF only; all other general registers 0; FPU/SSE in reset state
 * Everything a guest can see of memory is described by the start info. */
#define HV_MAX_SHM 4
#define HV_START_INFO_MAGIC 0x6f666e6974726174ULL /* "tartinfo" */

struct hv_start_info {
    uint64_t magic;
    uint32_t abi_version;
    uint32_t vcpu_count;
    char name[32];            /* NUL-terminated */
    uint32_t guest_id;        /* kept across restarts, like the name */
    uint32_t restarts;        /* times hv restarted this guest (0 on its first start;
                               * this was reserved, always 0, before restarts existed) */
    uint64_t memory_bytes;    /* all memory the guest was given */
    uint64_t heap_start;      /* spare memory, mapped read-write, zeroed */
    uint64_t heap_bytes;
    uint64_t stack_bytes;     /* per vCPU */
    uint64_t image_start;     /* lowest and highest address of the loaded image */
    uint64_t image_end;
    uint64_t shared_va;       /* struct hv_shared_info, read-write (abi_cpu.h) */
    /* Memory shared with other guests, declared in hv.cfg ([shm NAME]). */
    struct hv_shm_info {
        char name[16];        /* NUL-terminated; "" for an unused slot */
        uint64_t va;
        uint64_t bytes;
        uint32_t writable;    /* 0: mapped read-only for this guest */
        uint32_t reserved;
    } shm[HV_MAX_SHM];
};

struct hv_guest_info {
    uint32_t guest_id;
    uint32_t vcpu_count;
    char name[32];
    uint64_t memory_bytes;
    uint32_t abi_version;
    uint32_t guests_running; /* guests alive in the system, this one included */
    uint64_t memory_used_bytes; /* charged to memory_bytes now: pages and page tables */
};

struct hv_vcpu_info {
    uint32_t vcpu_id;
    uint32_t state;       /* enum hv_vcpu_state */
    uint64_t cpu_time_ns; /* time this vCPU has run */
    /* Times the vCPU entered hv by its own doing (hypercalls, exceptions,
     * bounced system calls; not interrupts): shows a fast path skips hv. */
    uint64_t hv_entries;
};

enum hv_vcpu_state { HV_VCPU_RUNNING = 0, HV_VCPU_RUNNABLE = 1, HV_VCPU_BLOCKED = 2, HV_VCPU_DEAD = 3 };

/* The optional image note: an ELF note (PT_NOTE) with owner "hv" and type
 * HV_NOTE_GUEST whose descriptor is struct hv_image_note. A zero field means
 * "the default". The SDK's HV_GUEST_NOTE() macro writes one. */
#define HV_NOTE_OWNER "hv"
#define HV_NOTE_GUEST 1

struct hv_image_note {
    uint32_t abi_version;   /* must be HV_ABI_VERSION */
    uint32_t vcpus;         /* default 1 */
    uint64_t memory_bytes;  /* default: see docs/abi.md */
    uint64_t stack_bytes;   /* per vCPU, default 64 KiB */
    /* Ignored: a guest's name is its identity ([shm] membership, event-
     * channel peers), so it comes from hv.cfg or the file name, never from
     * the image (docs/abi.md, "Names and identity"). hv logs an info line
     * when this differs from the name it gives. */
    char name[32];
};

/* The optional restart-policy note (docs/abi.md, "The restart-policy
 * note"): owner "hv", type HV_NOTE_POLICY, descriptor struct
 * hv_image_policy, at most one. What the image asks for when it ends; each
 * of hv.cfg's keys (on_exit, on_fault, max_restarts) wins over the field it
 * names. An image may ask only for stop or restart, never halt (that would
 * let any image stop the machine), and for at most the default restart
 * rate: max_restarts 1..HV_NOTE_MAX_RESTARTS within window_s >= 60 (0: the
 * defaults, 5 within 60 s). A note asking more, when hv.cfg does not
 * decide that key, gets the image refused with the reason. The SDK's
 * HV_GUEST_POLICY() macro writes one. */
#define HV_NOTE_POLICY 2
#define HV_NOTE_MAX_RESTARTS 5
#define HV_NOTE_MIN_WINDOW_S 60

enum hv_note_action {
    HV_NOTE_ACTION_DEFAULT = 0, /* hv's default: stop */
    HV_NOTE_ACTION_STOP = 1,
    HV_NOTE_ACTION_RESTART = 2,
};

struct hv_image_policy {
    uint32_t on_exit;       /* enum hv_note_action */
    uint32_t on_fault;      /* enum hv_note_action */
    uint32_t max_restarts;  /* 0: default; else 1..HV_NOTE_MAX_RESTARTS */
    uint32_t window_s;      /* 0: default (60 s); else at least HV_NOTE_MIN_WINDOW_S */
};

/* --- the health monitor (docs/abi.md, "Restarts and the health monitor") ---------
 * hv logs each end of a guest: when, what (an exit or a fault), and what
 * hv did about it (the guest's on_exit / on_fault policy in hv.cfg). A
 * guest with hv.cfg `monitor = yes` reads any guest's log with
 * HV_CALL_HEALTH_READ(guest_id, first, buf, n): entries first.. of that
 * guest (0 is its first end; entries older than the last
 * HV_HEALTH_LOG_ENTRIES are gone, and reading starts at the oldest kept),
 * at most n and at most HV_HEALTH_LOG_ENTRIES per call, copied to buf;
 * returns how many were copied (0: none from `first` on), -HV_EPERM
 * without the privilege, -HV_ESRCH for a guest id hv never gave,
 * -HV_EFAULT if buf is not writable guest memory (entries before the bad
 * one may have been written). Guest ids are 0, 1, ... in start order. */
#define HV_HEALTH_LOG_ENTRIES 12
/* HV_CALL_HEALTH_READ(HV_HEALTH_TRACE_DUMP, 0, 0, n), same privilege: hv
 * writes up to n (at most HV_TRACE_DUMP_MAX) records of its trace (hv.cfg
 * `trace = yes`) to its serial log, oldest first, taking them out of the
 * trace, and returns how many (0: none held now); -HV_EAGAIN when records
 * wait but hv's log has no room for them now (call again later);
 * -HV_ENOENT when tracing is off (docs/trace.md). */
#define HV_HEALTH_TRACE_DUMP 0xffffffffffffffffULL
#define HV_TRACE_DUMP_MAX 16

enum hv_health_event { HV_HEALTH_EXIT = 0, HV_HEALTH_FAULT = 1, HV_HEALTH_STOPPED = 2 };
enum hv_health_action {
    HV_HEALTH_STOP = 0,         /* the guest stays stopped */
    HV_HEALTH_RESTART = 1,      /* rebuilt from its image */
    HV_HEALTH_HALT = 2,         /* hv stopped every guest and ended the run */
    HV_HEALTH_LIMIT_STOP = 3,   /* restart asked, max_restarts reached: stopped */
    HV_HEALTH_RESTART_FAILED = 4, /* restart asked, could not be done: stopped */
};

struct hv_health_entry {
    uint64_t time_ns;      /* system time of the end */
    uint32_t guest_id;
    uint32_t index;        /* 0 for the guest's first entry */
    uint32_t event;        /* enum hv_health_event */
    uint32_t action;       /* enum hv_health_action */
    int64_t exit_status;   /* HV_CALL_EXIT's status; -1 for a fault */
    uint32_t restarts;     /* the guest's restart count after the action */
    uint32_t reserved;
    char name[32];         /* the guest's name, NUL-terminated */
    char reason[64];       /* hv's words for the end, NUL-terminated, cut */
};

/* Guest address-space layout. Images load in [HV_GUEST_IMAGE_MIN,
 * HV_GUEST_IMAGE_MAX); stacks and the start info live above it; the top of
 * the lower half is never mapped. */
#define HV_GUEST_IMAGE_MIN 0x0000000000010000ULL
#define HV_GUEST_IMAGE_MAX 0x00007f0000000000ULL
#define HV_GUEST_STATIC_PIE_BASE 0x0000000000400000ULL
#define HV_GUEST_LOWER_HALF_END 0x0000800000000000ULL

#include "abi_cpu.h" /* beside this file */
