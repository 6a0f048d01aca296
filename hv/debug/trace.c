/* hv's event trace: the per-CPU rings, the boot patching of the trace
 * points and the serial dump (hv/debug/trace.h, docs/trace.md). */
#include "hv/debug/trace.h"

#include "hv/console/log.h"
#include "vcpu/iret_fast.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/sched/partition.h"
#include "hv/sched/sched.h"
#include "hv/time/time.h"
#include "vcpu/vcpu.h"

/* Records per CPU: 16384 x 32 bytes = 512 KiB, taken only when tracing is
 * on. A partitioned run of two guests writes ~2,000 records a second
 * (docs/trace.md), so the ring holds the last couple of seconds. */
#define TRACE_RECS_PER_CPU 16384u
/* As many CPUs as hv can learn of (hv/acpi/acpi.h). */
#define TRACE_MAX_CPUS 64u

static struct trace_ring rings[TRACE_MAX_CPUS];
static long last_window[TRACE_MAX_CPUS]; /* the window the CPU last recorded */
static bool tracing;

/* What .trace_patch holds (trace_on in hv/debug/trace.h). */
struct trace_patch_site {
    int32_t site;   /* the 5-byte NOP, relative to this field */
    int32_t target; /* the recording block, relative to this field */
};

extern const struct trace_patch_site __trace_patch_start[], __trace_patch_end[];

static const uint8_t nop5[5] = {0x0f, 0x1f, 0x44, 0x00, 0x00};

static unsigned patch_sites(void)
{
    unsigned n = 0;
    for (const struct trace_patch_site *s = __trace_patch_start; s < __trace_patch_end; s++) {
        uint64_t site = (uint64_t)&s->site + (int64_t)s->site;
        uint64_t target = (uint64_t)&s->target + (int64_t)s->target;
        /* hv's text is read-only where it runs; its direct-map alias is
         * writable until mm_protect_core_alias. No guest exists yet. */
        uint8_t *code = phys_to_virt(mm_core_phys(site));
        for (unsigned i = 0; i < 5; i++)
            if (code[i] != nop5[i])
                panic("trace patch: no 5-byte NOP at 0x%lx", (unsigned long)site);
        int64_t rel = (int64_t)(target - (site + 5));
        code[0] = 0xe9; /* jmp rel32 */
        code[1] = (uint8_t)rel;
        code[2] = (uint8_t)(rel >> 8);
        code[3] = (uint8_t)(rel >> 16);
        code[4] = (uint8_t)(rel >> 24);
        n++;
    }
    cpuid(0, 0); /* cross-modified code: serialise before it runs */
    return n;
}

void trace_cpu_init(unsigned cpu_index)
{
    if (!tracing || cpu_index >= TRACE_MAX_CPUS || rings[cpu_index].recs)
        return;
    /* Without memory the ring has no storage: its records are counted lost. */
    struct trace_rec *buf = kalloc_zeroed((uint64_t)TRACE_RECS_PER_CPU * sizeof(struct trace_rec));
    trace_ring_init(&rings[cpu_index], buf, TRACE_RECS_PER_CPU);
    last_window[cpu_index] = -2;
}

void trace_init(bool on)
{
    if (!on)
        return;
    tracing = true;
    /* The asm fast path of HV_CALL_IRET (vcpu/syscall_entry.S) goes to C,
     * where the trace points are: a traced run records every iret. */
    iret_fast_off = 1;
    trace_cpu_init(this_cpu()->index);
    unsigned n = patch_sites();
    log_info("trace: on, %u points, %u records a CPU, wrapping", n, TRACE_RECS_PER_CPU);
}

/* The CPU's next slot, filled but for the event's own fields. Interrupts
 * off: a timer interrupt may record on this CPU in the middle. */
static void record(uint16_t event, uint16_t guest, uint16_t vcpu, uint64_t a, uint64_t b,
                   uint64_t now)
{
    uint64_t flags = irq_save();
    unsigned cpu = this_cpu()->index;
    if (cpu < TRACE_MAX_CPUS) {
        struct trace_rec *r = trace_ring_put(&rings[cpu]);
        if (r) {
            r->ns = now;
            r->event = event;
            r->guest = guest;
            r->vcpu = vcpu;
            r->pad = 0;
            r->a = a;
            r->b = b;
        }
    }
    irq_restore(flags);
}

TRACE_RECORDER void trace_record(uint64_t how, const void *subject, uint64_t a, uint64_t b)
{
    uint16_t event = (uint16_t)how, guest = TRACE_NO_GUEST, vcpu = 0;
    if ((how & (3u << 16)) == TRACE_OF_VCPU) {
        const struct vcpu *v = subject;
        guest = (uint16_t)v->guest->id;
        vcpu = (uint16_t)v->id;
    } else if ((how & (3u << 16)) == TRACE_OF_GUEST) {
        guest = (uint16_t)((const struct guest *)subject)->id;
    }
    uint64_t now = b;
    if (how & TRACE_NOW)
        b = 0;
    else
        now = time_now_ns();
    if (event == TR_WINDOW) {
        unsigned cpu = this_cpu()->index;
        if (cpu >= TRACE_MAX_CPUS || last_window[cpu] == (long)a)
            return;
        last_window[cpu] = (long)a;
    }
    record(event, guest, vcpu, a, b, now);
}

/* --- the dump ------------------------------------------------------------- */

static void dump_header(void)
{
    unsigned cpus = 0;
    for (unsigned i = 0; i < TRACE_MAX_CPUS; i++)
        cpus += rings[i].recs != 0;
    log_info("trace: begin cpus=%u cap=%u now=%lu", cpus, TRACE_RECS_PER_CPU,
             (unsigned long)time_now_ns());
    for (struct guest *g = guest_list(); g; g = g->next)
        log_info("trace: guest d%u name=%s vcpus=%u", g->id, g->name, g->vcpu_count);
    uint64_t start;
    const struct partition_plan *p = sched_partition_plan(&start);
    if (!p)
        return;
    log_info("trace: schedule start=%lu major=%lu windows=%u", (unsigned long)start,
             (unsigned long)p->major_frame_ns, p->count);
    for (unsigned i = 0; i < p->count; i++)
        log_info("trace: window idx=%u guest=%s offset=%lu duration=%lu", i, p->w[i].guest,
                 (unsigned long)p->w[i].offset_ns, (unsigned long)p->w[i].duration_ns);
}

/* Lines between flushes at the end of the run: well inside hv's log queue. */
#define FLUSH_EVERY 64

void trace_dump_all(void)
{
    if (!tracing)
        return;
    dump_header();
    for (unsigned cpu = 0; cpu < TRACE_MAX_CPUS; cpu++) {
        struct trace_ring *r = &rings[cpu];
        if (!r->recs)
            continue;
        uint64_t written = r->written, lost = r->lost;
        unsigned n = 0;
        char line[160];
        for (const struct trace_rec *rec; (rec = trace_ring_take(r));) {
            trace_format(line, sizeof(line), cpu, rec);
            log_info("%s", line);
            if (++n % FLUSH_EVERY == 0)
                log_flush();
        }
        log_info("trace: end cpu=%u records=%lu lost=%lu", cpu, (unsigned long)written,
                 (unsigned long)lost);
        log_flush();
    }
}

/* Room a monitor's dump leaves in hv's log queue for everyone else's lines. */
#define DUMP_KEEP_ROOM 8192

int64_t trace_dump_some(uint32_t max)
{
    if (!tracing)
        return TRACE_DUMP_OFF;
    uint32_t n = 0;
    bool held = false;
    char line[160];
    uint64_t flags = irq_save();
    for (unsigned cpu = 0; cpu < TRACE_MAX_CPUS && n < max; cpu++) {
        struct trace_ring *r = &rings[cpu];
        while (n < max && r->count) {
            if (log_hv_room() < DUMP_KEEP_ROOM + sizeof(line)) {
                held = true;
                break;
            }
            trace_format(line, sizeof(line), cpu, trace_ring_take(r));
            log_info("%s", line);
            n++;
        }
    }
    irq_restore(flags);
    return n == 0 && held ? (int64_t)TRACE_DUMP_LATER : (int64_t)n;
}
