/* A guest: one image from the ESP, its address space, its vCPUs, its console
 * and how it ended. Guests are kept after they end, for the summary. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/console/console_text.h"
#include "hv/console/log.h"
#include "hv/console/token_bucket.h"
#include "hv/mm/pagetable.h"
#include "hv/sched/fair.h"
#include "include/hv/abi.h"

#define GUEST_MAX_VCPUS 16

enum guest_end { GUEST_ALIVE, GUEST_EXITED, GUEST_FAULTED };

#define GUEST_INPUT_BYTES 256

/* hv/guest/console.c */
struct guest_console {
    char input[GUEST_INPUT_BYTES]; /* console input waiting for HV_CALL_CONSOLE_READ */
    uint16_t input_head, input_len;
    struct console_text line;      /* the line being written */
    struct token_bucket rate;      /* output bytes it may still write now */
    struct log_source out;         /* its finished lines, until hv sends them */
    uint64_t dropped;              /* output bytes lost: its buffer was full */
    uint64_t dropped_noticed_at;   /* ns; 0: never */
    char label[40];                /* "[name] " */
    uint32_t label_len;
    bool ended;                    /* no more output: its last line is queued */
};

struct guest {
    uint32_t id;
    char name[32];
    char file[64];
    struct pt_space space;
    uint64_t memory_bytes;      /* as granted */
    uint64_t pages_mapped;      /* guest frames in use */
    uint64_t start_info_va;
    uint32_t vcpu_count;
    uint32_t vcpus_alive;
    struct vcpu *vcpus[GUEST_MAX_VCPUS];
    enum guest_end end;
    int64_t exit_status;
    char end_reason[112];
    uint64_t cpu_time_ns;
    uint64_t slice_ns;          /* its vCPUs' slice in a partition window: the weight made time */
    /* The scheduler's (hv/sched/sched.c): the guest's fair share, its
     * runnable vCPUs waiting for the CPU (round robin), and how many of its
     * vCPUs want the CPU (running or runnable). */
    struct fair_entity fair;
    struct vcpu *run_head, *run_tail;
    uint32_t vcpus_wanting;
    bool memory_freed;
    struct guest_console console;
    /* User address spaces (guest user mode), by handle 1..HV_MAX_USER_SPACES. */
    struct pt_space *user_spaces[HV_MAX_USER_SPACES + 1];
    uint64_t shared_va, shared_pa;
    struct hv_shared_info *shared; /* the shared page, through hv's direct map */
    /* Page-table pages count against the allowance once the guest runs (its
     * memory operations), not for what hv built at load time. */
    bool charge_tables;
    struct evtchn *evtchn; /* HV_EVTCHN_PORTS entries, made on first use */
    struct guest *next; /* all guests, in start order */
};

/* A new guest with an empty address space (the upper half shared with hv). */
struct guest *guest_create(const char *name, const char *file, uint64_t memory_bytes);
/* Maps `pages` fresh zeroed frames at va with leaf flags; counts them against
 * the guest's memory. Returns the first frame's physical address of the
 * last page mapped... callers use guest_frame() to reach them. */
int guest_map_zeroed(struct guest *g, uint64_t va, uint64_t bytes, uint64_t flags);
/* The frame behind a mapped guest page, through the direct map (NULL if not mapped). */
void *guest_page_ptr(struct guest *g, uint64_t va);
/* Address space by handle: 0 the kernel's, 1.. user spaces; NULL if none. */
struct pt_space *guest_space(struct guest *g, uint64_t handle);
/* Page tables for a new address space of this guest, upper half shared. */
bool guest_space_init(struct guest *g, struct pt_space *s);
/* Unmaps everything of a space's lower half and frees its tables. */
void guest_space_teardown(struct guest *g, struct pt_space *s);

/* Ends the guest: all vCPUs stop, the line is logged, memory is freed once
 * the CPU no longer runs on its page tables. */
void guest_end(struct guest *g, enum guest_end how, int64_t status, const char *reason);
/* Called when a vCPU stops; the guest ends with its last. */
void guest_vcpu_stopped(struct guest *g);
void guest_free_memory(struct guest *g);
/* Fully tears a guest down that never ran (a failed load). */
void guest_discard(struct guest *g);

struct guest *guest_list(void);
uint32_t guests_alive(void);
/* Guests that ended but whose memory is not freed yet. */
uint32_t guests_to_reap(void);
/* Logs the end-of-run table; returns the hv exit status it implies. */
int guest_summary(void);
