#include "hv/guest/guest.h"

#include "hv/console/log.h"
#include "hv/cpu/features.h"
#include "hv/cpu/tlb_shootdown.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/debug/trace.h"
#include "hv/event/evtchn.h"
#include "hv/guest/console.h"
#include "hv/guest/guest_internal.h"
#include "hv/guest/leak_check.h"
#include "hv/guest/restart.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/mm/xpti.h"
#include "hv/power/power.h"
#include "hv/sched/sched.h"
#include "hv/time/time.h"
#include "lib/fmt.h"
#include "hv/xen/xen.h"
#include "lib/nospec.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

#define PAGE 4096ULL
#define LOWER_HALF_END 0x0000800000000000ULL

static struct guest *first, *last;
static uint32_t next_id;

/* Page-table pages of every space of a guest come out of its allowance,
 * at load and later alike, and go back to it when freed. */
static uint64_t alloc_table(void *arg)
{
    struct guest *g = arg;
    return frame_get_charged(&g->mem);
}

void guest_free_table(void *arg, uint64_t table_phys)
{
    struct guest *g = arg;
    frame_put_charged(&g->mem, table_phys);
}

uint64_t guest_memory_left(const struct guest *g)
{
    return frame_reservation_left(&g->mem);
}

__attribute__((cold)) bool guest_space_init(struct guest *g, struct pt_space *s)
{
    if (pt_init(s, HV_DIRECT_MAP_BASE, alloc_table, g) != PT_OK)
        return false;
    s->lock = &g->mm_lock;
    s->cpus_loaded = 0;
    /* The upper half is hv's, identical in every address space and
     * supervisor-only, so a trap needs no CR3 switch (unless page-table
     * isolation gives the guest a root of its own, hv/mm/xpti.h). */
    uint64_t *root = phys_to_virt(s->root_phys);
    const uint64_t *kroot = phys_to_virt(kernel_space()->root_phys);
    for (int i = 256; i < 512; i++)
        root[i] = kroot[i];
    if (!xpti_space_init(s)) {
        guest_free_table(g, s->root_phys);
        s->root_phys = 0;
        return false;
    }
    return true;
}

struct pt_space *guest_space(struct guest *g, uint64_t handle)
{
    if (handle == HV_SPACE_KERNEL)
        return &g->space;
    if (handle > HV_MAX_USER_SPACES)
        return NULL;
    handle = array_index_nospec(handle, HV_MAX_USER_SPACES + 1); /* guest-chosen: Spectre v1 */
    if (g->space_dying[handle])
        return NULL;
    return g->user_spaces[handle];
}

/* Creating, discarding and reporting on guests runs at boot, at a restart
 * or at the end, never on a path make bench measures: `cold` has GCC build
 * these for size (the file's hot helpers, guest_space and guest_list among
 * them, stay -O2, so the file is not in the Makefile's CORE_COLD_SRCS). */
__attribute__((cold))
struct guest *guest_create(const char *name, const char *file, uint64_t memory_bytes,
                           bool *no_room)
{
    *no_room = false;
    struct guest *g = kmalloc(sizeof(*g));
    if (!g)
        return NULL;
    if (!mm_reserve(&g->mem, memory_bytes / PAGE)) {
        *no_room = true;
        kfree(g, sizeof(*g));
        return NULL;
    }
    if (!guest_space_init(g, &g->space)) {
        *no_room = true; /* only its allowance could not hold a root table */
        mm_reservation_end(&g->mem);
        kfree(g, sizeof(*g));
        return NULL;
    }
    g->id = next_id++;
    guest_copy_name(g->name, sizeof(g->name), name);
    guest_copy_name(g->file, sizeof(g->file), file);
    g->memory_bytes = memory_bytes;
    g->end = GUEST_ALIVE;
    guest_console_init(g);
    if (last)
        last->next = g;
    else
        first = g;
    last = g;
    __atomic_add_fetch(&guest_alive_count, 1, __ATOMIC_RELAXED);
    return g;
}

__attribute__((cold))
static int map_zeroed_page(struct guest *g, uint64_t va, uint64_t flags)
{
    uint64_t frame = guest_frame_new(&g->mem);
    if (!frame)
        return -HV_ENOMEM;
    int rc = pt_map(&g->space, va, frame, PAGE, flags | PTE_U, 0);
    if (rc != PT_OK || guest_frame_add_mapping(frame, flags) != 0) {
        if (rc == PT_OK)
            pt_unmap(&g->space, va, PAGE);
        guest_frame_release(frame, &g->mem);
        return rc == PT_EEXIST ? -HV_EINVAL : -HV_ENOMEM;
    }
    return 0;
}

/* The guest's lock (and so interrupts off) one page at a time: a load
 * maps megabytes here, with interrupts on between pages. Its vCPUs do not
 * run yet (a load, a restart's MAPPING step), so nothing else changes the
 * space in between. */
__attribute__((cold)) int guest_map_zeroed(struct guest *g, uint64_t va, uint64_t bytes, uint64_t flags)
{
    uint64_t pages = bytes / PAGE;
    if (bytes % PAGE || va % PAGE || va >= LOWER_HALF_END || pages > (LOWER_HALF_END - va) / PAGE)
        return -HV_EINVAL;
    if (pages > guest_memory_left(g))
        return -HV_ENOMEM;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t irq = spin_lock_irqsave(&g->mm_lock);
        int rc = map_zeroed_page(g, va + i * PAGE, flags);
        spin_unlock_irqrestore(&g->mm_lock, irq);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void *guest_page_ptr(struct guest *g, uint64_t va)
{
    uint64_t pa, flags;
    if (va >= LOWER_HALF_END || !pt_lookup(&g->space, va & ~(PAGE - 1), &pa, &flags))
        return NULL;
    return (char *)phys_to_virt(pa) + (va & (PAGE - 1));
}

/* The guest's own bookkeeping, once nothing of it is left in use. */
static void free_guest_struct(struct guest *g)
{
    kfree(g->kept, sizeof(*g->kept));
    kfree(g->health, sizeof(*g->health));
    kfree(g, sizeof(*g));
}

__attribute__((cold))
void guest_discard(struct guest *g)
{
    guest_console_discard(g);
    while (!guest_free_memory(g))
        ; /* at load time: nothing runs beside it yet */
    /* Unlink: a guest that never ran does not appear in the summary. */
    struct guest **p = &first;
    struct guest *prev = NULL;
    while (*p && *p != g) {
        prev = *p;
        p = &(*p)->next;
    }
    if (*p)
        *p = g->next;
    if (last == g)
        last = prev;
    if (g->end == GUEST_ALIVE)
        __atomic_sub_fetch(&guest_alive_count, 1, __ATOMIC_RELAXED);
    free_guest_struct(g);
}

__attribute__((cold))
void guest_release_all(void)
{
    leak_check_release();
    while (first) {
        struct guest *g = first;
        while (!guest_free_memory(g))
            ;
        first = g->next;
        free_guest_struct(g);
    }
    last = NULL;
}

struct guest *guest_list(void)
{
    return first;
}

__attribute__((cold))
void guest_status_text(char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    uint64_t flags = irq_save();
    uint64_t all_us = 0;
    uint32_t count = 0;
    for (struct guest *g = first; g; g = g->next) {
        all_us += g->cpu_time_ns / 1000;
        count++;
    }
    size_t n = 0;
    uint32_t shown = 0;
    /* Room kept for " +4294967295 more". */
    const size_t more_room = 18;
    for (struct guest *g = first; g && cap > more_room; g = g->next) {
        char state[24];
        if (g->end == GUEST_EXITED)
            fmt_format(state, sizeof(state), "exit %ld", (long)g->exit_status);
        else if (g->end == GUEST_FAULTED)
            fmt_format(state, sizeof(state), "ended");
        else
            fmt_format(state, sizeof(state), "%s", sched_guest_wants_cpu(g) ? "run" : "wait");
        /* Its share of the CPU time the guests used, as in the summary. */
        unsigned long pm = all_us ? (unsigned long)(g->cpu_time_ns / 1000 * 1000 / all_us) : 0;
        char item[80];
        size_t len = fmt_format(item, sizeof(item), " %s %s %lu%%", g->name, state, pm / 10);
        if (len >= sizeof(item) || n + len + more_room >= cap)
            break;
        for (size_t i = 0; i <= len; i++)
            buf[n + i] = item[i];
        n += len;
        shown++;
    }
    if (shown < count)
        fmt_format(buf + n, cap - n, " +%u more", count - shown);
    irq_restore(flags);
}

__attribute__((cold))
int guest_summary(void)
{
    int status = HV_EXIT_OK;
    uint32_t n = 0;
    for (struct guest *g = first; g; g = g->next)
        n++;
    log_info("summary: %u guest(s)", n);
    /* Each guest's share of the CPU time the guests used (per mille). */
    uint64_t all_us = 0;
    for (struct guest *g = first; g; g = g->next)
        all_us += g->cpu_time_ns / 1000;
    for (struct guest *g = first; g; g = g->next) {
        uint64_t us = g->cpu_time_ns / 1000;
        unsigned long pm = all_us ? (unsigned long)(us * 1000 / all_us) : 0;
        /* Console output it lost (its buffer was full), when there was any. */
        char dropped[80] = "";
        size_t used = 0;
        if (guest_console_dropped(g))
            used = fmt_format(dropped, sizeof(dropped), "  dropped %lu bytes",
                              (unsigned long)guest_console_dropped(g));
        /* Restarts, when it has a policy that restarts or was restarted. */
        if ((g->kept || g->restarts) && used < sizeof(dropped))
            fmt_format(dropped + used, sizeof(dropped) - used, "  restarts %u", g->restarts);
        if (g->end == GUEST_EXITED)
            log_info("  %-16s exited with status %-4ld cpu %lu.%06lu s (share %lu.%lu %%)%s",
                     g->name, (long)g->exit_status, (unsigned long)(us / 1000000),
                     (unsigned long)(us % 1000000), pm / 10, pm % 10, dropped);
        else
            log_info("  %-16s %s  cpu %lu.%06lu s (share %lu.%lu %%)%s", g->name, g->end_reason,
                     (unsigned long)(us / 1000000), (unsigned long)(us % 1000000), pm / 10,
                     pm % 10, dropped);
        health_log_print(g);
        if (g->end != GUEST_EXITED || g->exit_status != 0)
            status = HV_EXIT_GUEST_FAILED;
    }
    leak_check_report();
    guest_reaper_report();
    restart_report();
    return status;
}
