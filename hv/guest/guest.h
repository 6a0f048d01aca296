/* A guest: one image from the ESP, its address space, its vCPUs, its console
 * and how it ended. Guests are kept after they end, for the summary. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/console/console_text.h"
#include "hv/console/log.h"
#include "hv/console/token_bucket.h"
#include "hv/cpu/spinlock.h"
#include "guest-loader/elf_image.h"
#include "guest-loader/guest_params.h"
#include "hv/guest/health_monitor.h"
#include "hv/guest/restart_policy.h"
#include "hv/mm/frame_alloc.h"
#include "hv/mm/pagetable.h"
#include "hv/sched/fair.h"
#include "include/hv/abi.h"
#include "lib/sha256.h"

#define GUEST_MAX_VCPUS 16

enum guest_end { GUEST_ALIVE, GUEST_EXITED, GUEST_FAULTED };

#define GUEST_INPUT_BYTES 256

/* hv/guest/console.c. `lock` covers all of it: two of the guest's vCPUs
 * may write or read at once on two CPUs, beside the console poll's input
 * and the guest's end (docs/design.md, "Locking"). */
struct guest_console {
    struct spinlock lock;
    char input[GUEST_INPUT_BYTES]; /* console input waiting for HV_CALL_CONSOLE_READ */
    uint16_t input_head, input_len;
    uint64_t input_taken;          /* bytes ever taken: a read's copy is checked against it */
    struct console_text line;      /* the line being written */
    struct token_bucket rate;      /* output bytes it may still write now */
    struct log_source out;         /* its finished lines, until hv sends them */
    uint64_t dropped;              /* output bytes lost: its buffer was full */
    uint64_t dropped_noticed_at;   /* ns; 0: never */
    char label[40];                /* "[name] " */
    uint32_t label_len;
    bool ended;                    /* no more output: its last line is queued */
};

/* Where a restart is (hv/guest/restart.c): the ended guest's memory goes
 * back in bounded steps (REAPING, its reservation kept), what it reads of
 * its image is hashed again in bounded steps and compared with the hash
 * taken at load (VERIFYING), a root page table made (LOADING), the rest
 * built afresh in bounded steps (BUILDING: all but its stacks and heap,
 * guest-loader/loader_build.c), those mapped in bounded steps (MAPPING),
 * and it runs again. */
enum restart_stage {
    RESTART_NONE,
    RESTART_REAPING,
    RESTART_VERIFYING,
    RESTART_LOADING,  /* the root page table */
    RESTART_BUILDING, /* segments, relocations, permissions, fixed pages, vCPUs: a piece a step */
    RESTART_MAPPING, /* the stacks and the heap, a few pages per step */
};

/* What a restart rebuilds from: the image file as the firmware read it
 * (loader-data memory hv never reuses, writable through the direct map),
 * the file as the loader parsed it at load (img: the restart never parses
 * the file again), the SHA-256 taken at load of the only bytes a restart
 * reads of the file (guest-loader/loader.h, loader_kept_range: segments'
 * file bytes, relocations), and the parameters it was loaded with. Kept
 * only for a guest whose policy can restart it. */
#define GUEST_KEPT_LATER_MAX (GUEST_MAX_VCPUS + 1) /* the stacks and the heap */

struct guest_kept_image {
    const uint8_t *file;        /* NULL: nothing kept */
    uint64_t size;
    /* Of the ranges loader_kept_range names, in order, and zeros to a
     * whole 64-byte block (restart_hash_step: one block a step). */
    uint8_t sha256[SHA256_BYTES];
    struct guest_params params;
    struct sha256 check;        /* the hash being taken again */
    uint64_t range, checked;    /* VERIFYING: the range, bytes of it hashed so far */
    struct elf_image img;       /* the load's parse (the file's headers are not read again) */
    bool announce_due;          /* the restart's line is still to be logged */
    uint32_t build_part;        /* BUILDING: the part (guest-loader/loader_build.c), */
    uint64_t build_pos;         /* and how far it is */
    uint64_t heap_bytes;        /* the heap its first life got, and every life gets */
    uint64_t built_frames;      /* frames charged once its first life was built */
    /* A restart's fresh mappings (stacks, heap), made in MAPPING's steps. */
    struct guest_later_map {
        uint64_t va, bytes, flags;
    } later[GUEST_KEPT_LATER_MAX];
    uint32_t later_count, later_next;
    uint64_t later_pages, later_done; /* later_done: bytes of later[later_next] */
    struct restart_history history;   /* the restarts made, for max_restarts */
};

struct guest {
    uint32_t id;
    char name[32];
    char file[64];
    struct pt_space space;
    /* Held (bounded work, never across a wait for another CPU) by
     * whatever changes the guest's address spaces, their frames' counts or
     * its allowance: the MEM_* hypercalls, user-space create/destroy,
     * teardown steps, hv's walks of a space that is not loaded
     * (docs/design.md, "Locking"). */
    struct spinlock mm_lock;
    uint64_t memory_bytes;      /* as granted */
    /* The allowance, set aside at creation: every frame the guest causes
     * (its pages, the page tables of all its spaces) is charged to it. */
    struct frame_reservation mem;
    uint64_t start_info_va;
    uint32_t vcpu_count;
    uint32_t vcpus_alive;
    struct vcpu *vcpus[GUEST_MAX_VCPUS];
    enum guest_end end;
    int64_t exit_status;
    char end_reason[112];
    uint64_t cpu_time_ns;
    uint64_t slice_ns;          /* its vCPUs' slice in a partition window: the weight made time */
    /* The scheduler's (hv/sched/sched.c): its weight, its affinity (the
     * CPUs it may run on, by bit), the CPU each vCPU was placed on (kept
     * across restarts) and whether the placement still counts. Its fair
     * entities are in its vCPUs (struct sched_entity). */
    uint32_t weight;
    uint64_t cpus;
    uint8_t vcpu_cpu[GUEST_MAX_VCPUS];
    bool placed;
    /* A restart is adding its vCPUs to their CPUs (hv/guest/restart.c,
     * running_again): an end waits until every addition is on its CPU's
     * wake list, so no stop can reach a vCPU before its addition
     * (hv/guest/guest_end.c). */
    bool vcpus_adding;
    /* hv stopped it (hv.cfg's time limit, another guest's halt): its
     * policy no longer applies, even to an end that raced the stop. */
    bool stopped_by_hv;
    bool memory_freed;
    bool leak_check_due; /* its memory is back, the leak check is the next step */
    struct guest_console console;
    /* User address spaces (guest user mode), by handle 1..HV_MAX_USER_SPACES. */
    struct pt_space *user_spaces[HV_MAX_USER_SPACES + 1];
    uint64_t shared_va, shared_pa;
    struct hv_shared_info *shared; /* the shared page, through hv's direct map */
    /* Spaces being torn down in steps (index 0: the kernel space, at the
     * guest's end): how far, and whether a user space is no longer usable. */
    uint64_t teardown_done[HV_MAX_USER_SPACES + 1];
    bool space_dying[HV_MAX_USER_SPACES + 1];
    struct evtchn *evtchn; /* HV_EVTCHN_PORTS entries, made on first use */
    /* Its table's making and its ports' binding and closing; two guests'
     * together (BIND_PEER, CLOSE of a connection, an end) lower id first.
     * Raising an event takes none (hv/event/evtchn.c). */
    struct spinlock evtchn_lock;
    struct xen_guest *xen; /* Xen PV personality: its state (hv/xen/xen.h); NULL: hv's own ABI */
    /* Restarts and the health monitor (hv/guest/restart.c, health_monitor.c).
     * The two structures are made only when needed, so a guest that is
     * never restarted and never ends pays nothing at load. */
    struct guest_policy policy;
    /* The restart stage, its kept image and history, `restarts` and the
     * health log's writers: its end's decision, the reaper's restart steps
     * (the boot CPU) and an abandon (hv's stop, from any CPU) take it. */
    struct spinlock restart_lock;
    enum restart_stage restart_stage;
    /* Which end of the run's this one was (1, 2, ...: hv/guest/guest_end.c),
     * stored once the end is claimed; 0 while alive (a restart clears it).
     * The reaper frees ended guests in that order, each once a grace
     * period begun after its end is over (guest_end.c, reap_guests). */
    uint64_t end_seq;
    uint32_t restarts;              /* restarts made (the start info's `restarts`) */
    struct guest_kept_image *kept;  /* made at load iff its policy can restart it */
    struct health_log *health;      /* made at its first end (NULL: no entries) */
    struct guest *next; /* all guests, in start order */
};

/* A new guest with an empty address space (the upper half shared with hv),
 * its whole allowance set aside; NULL when hv has no memory for its
 * bookkeeping or the allowance is not free (*no_room says which). */
struct guest *guest_create(const char *name, const char *file, uint64_t memory_bytes,
                           bool *no_room);
/* Maps fresh zeroed frames at va with leaf flags (maximum protections
 * included), charged to the guest's allowance. */
int guest_map_zeroed(struct guest *g, uint64_t va, uint64_t bytes, uint64_t flags);
/* Pages of the allowance not charged yet. */
uint64_t guest_memory_left(const struct guest *g);
/* The frame behind a mapped guest page, through the direct map (NULL if not mapped). */
void *guest_page_ptr(struct guest *g, uint64_t va);
/* Address space by handle: 0 the kernel's, 1.. user spaces; NULL if none
 * (or being destroyed). */
struct pt_space *guest_space(struct guest *g, uint64_t handle);
/* Page tables for a new address space of this guest, upper half shared. */
bool guest_space_init(struct guest *g, struct pt_space *s);
/* One bounded step of unmapping everything of the space with this handle
 * (0: the kernel space) and freeing its tables, root included at the end:
 * true when the space is gone (a user space's struct is freed too). */
bool guest_space_teardown_step(struct guest *g, uint64_t handle);
/* Drops one guest page mapping's counts and reference (its leaf flags). */
void guest_unmap_leaf(void *guest, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags);
/* Frees a page-table page of the guest's (charged to its allowance). */
void guest_free_table(void *guest, uint64_t table_phys);

/* Ends the guest: all vCPUs stop, the line is logged, memory is freed once
 * the CPU no longer runs on its page tables. */
void guest_end(struct guest *g, enum guest_end how, int64_t status, const char *reason);
/* HV_CALL_EXIT from a vCPU of g that runs on this CPU, in its hypercall:
 * guest_end(GUEST_EXITED) with its line formatted with interrupts on. */
void guest_exit(struct guest *g, int64_t status);
/* guest_end with its line ("guest N ended: reason", log_format) formatted
 * by the caller, with interrupts on as guest_exit does (vcpu/guest_trap.c:
 * a fault's end). */
void guest_end_formatted(struct guest *g, enum guest_end how, int64_t status,
                         const char *reason, const char *line, size_t line_len);
/* Ends the guest for hv's own reasons (hv.cfg's time limit, another
 * guest's halt): logged, never restarted whatever its policy. */
void guest_stop(struct guest *g, const char *reason);
/* hv/guest/restart.c's side of the counts of guests alive and to reap. */
void guest_restart_gave_up(void);
void guest_restart_reaped(void);
/* Called when a vCPU stops; the guest ends with its last. */
void guest_vcpu_stopped(struct guest *g);
/* One bounded step of freeing an ended guest's memory; true when all of
 * it is back (then it checks nothing stays charged). A guest being
 * restarted goes on to its restart's steps, and is alive again (false
 * stays the answer until then, true once it runs). */
bool guest_free_memory(struct guest *g);
/* The reaper's step (boot CPU, while guests_to_reap(): hv/sched/sched.c
 * reap_guests): one bounded step of freeing the ended guest that ended
 * first, once no CPU can hold a pointer into it, and of the grace period
 * under way (hv/guest/guest_end.c). Only on page tables no ended guest
 * owns; interrupts off. */
void guest_reap_step(void);
/* The summary's line: guest ends reaped, grace periods they took. */
void guest_reaper_report(void);
/* After the summary: frees every guest's remaining bookkeeping. */
void guest_release_all(void);
/* Fully tears a guest down that never ran (a failed load). */
void guest_discard(struct guest *g);

struct guest *guest_list(void);
uint32_t guests_alive(void);
/* Guests that ended but whose memory is not freed yet. */
uint32_t guests_to_reap(void);
/* Logs the end-of-run table; returns the hv exit status it implies. */
int guest_summary(void);
/* Each guest's state and CPU share, " name state share%" each, into buf
 * (NUL-terminated; "+N more" when they do not fit): the screen's status
 * line. Interrupts off while it walks the guests. */
void guest_status_text(char *buf, size_t cap);
