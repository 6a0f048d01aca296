/* bench-attack: the attacker of timer_late_under_attack (docs/benchmarks.md).
 * Until it is the only guest left, it makes the most expensive hypercalls a
 * guest can make, back to back, round after round:
 *
 *   map_fresh        HV_CALL_MEM_MAP of ATTACK_PAGES fresh pages
 *   alias            HV_CALL_MEM_MAP of a read-only alias of them (src =
 *                    the fresh range), then HV_CALL_MEM_UNMAP of the alias
 *   protect_ro/_rw   HV_CALL_MEM_PROTECT of that range, read-only and back
 *   unmap            HV_CALL_MEM_UNMAP of it
 *   unmap_sparse     HV_CALL_MEM_UNMAP of SPARSE_PAGES where nothing is mapped
 *   space_populated  HV_CALL_USER_SPACE_CREATE, SPACE_CHUNKS maps of
 *                    SPACE_CHUNK_PAGES fresh pages 1 GiB apart, and
 *                    HV_CALL_USER_SPACE_DESTROY of it
 *   console_newlines HV_CALL_CONSOLE_WRITE of 256 newlines (each becomes a
 *                    labelled line)
 *   poll_16          HV_CALL_POLL on 16 ports, the last one pending
 *   trap_table_256   HV_CALL_SET_TRAP_TABLE with 256 entries, then (NULL, 0)
 *   evtchn           HV_CALL_EVTCHN_BIND_IPI until no port is left, a send
 *                    on each and HV_CALL_EVTCHN_CLOSE of each
 *
 * Written to work with today's hv and with bounded memory hypercalls that
 * return how many pages they handled (>= 1; call again for the rest): any
 * result >= 0 is success, and a positive count below what was asked moves
 * on to the rest. Errors are not the point (the call's time is): they are
 * counted and reported, never fatal.
 *
 * When it ends it prints, per operation, the calls it made, the errors, and
 * the longest single hypercall in TSC cycles (from its own rdtsc pair):
 *
 *     bench: name=attack_op op=map_fresh calls=C errors=E longest_tsc=T */
#include "hvg.h"
#include "hvg_cpu.h"
#include "hvg_event.h"

#include "bench/guests/bench.h"

/* Named after its file; room for ATTACK_PAGES and the populated space. */
HV_GUEST_NOTE("", HVG_MIB(48), 1, 0);

#define PAGE 4096ull
#define ATTACK_PAGES 4096ull              /* 16 MiB: map, protect, unmap */
#define MAP_VA 0x100000000ull             /* 4 GiB, far from the image */
#define ALIAS_VA 0x180000000ull           /* 6 GiB: the alias of MAP_VA */
#define SPARSE_PAGES 65536ull             /* 256 MiB of nothing */
#define SPARSE_VA 0x200000000ull
#define SPACE_CHUNKS 16ull
#define SPACE_CHUNK_PAGES 128ull          /* 2048 pages in all */
#define SPACE_VA 0x40000000ull            /* chunk i at SPACE_VA + i GiB */
#define POLL_PORTS 16

enum op {
    OP_MAP_FRESH, OP_ALIAS, OP_PROTECT_RO, OP_PROTECT_RW, OP_UNMAP, OP_UNMAP_SPARSE, OP_SPACE,
    OP_CONSOLE, OP_POLL, OP_TRAP_TABLE, OP_EVTCHN, OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "map_fresh", "alias", "protect_ro", "protect_rw", "unmap", "unmap_sparse", "space_populated",
    "console_newlines", "poll_16", "trap_table_256", "evtchn",
};
static struct { uint64_t calls, errors, longest; } stats[OP_COUNT];

/* One hypercall, timed and counted under op. */
#define TIMED(op, call)                                                 \
    ({                                                                  \
        uint64_t t0_ = hvg_rdtsc();                                     \
        int64_t r_ = (call);                                            \
        uint64_t t_ = hvg_rdtsc() - t0_;                                \
        stats[op].calls++;                                              \
        if (r_ < 0)                                                     \
            stats[op].errors++;                                         \
        if (t_ > stats[op].longest)                                     \
            stats[op].longest = t_;                                     \
        r_;                                                             \
    })

/* A memory hypercall over [va, va + pages), again for the rest while it
 * reports a partial count. */
static void mem_range(enum op op, uint64_t nr, uint64_t space, uint64_t va, uint64_t pages,
                      uint64_t a3, uint64_t a4)
{
    while (pages) {
        int64_t r = TIMED(op, hvg_hypercall6(nr, space, va, pages, a3, a4, 0));
        if (r <= 0 || (uint64_t)r >= pages)
            return; /* done (0 today, the rest's count with partial counts) or failed */
        va += (uint64_t)r * PAGE;
        pages -= (uint64_t)r;
    }
}

/* A read-only alias of the fresh range (the source moves with the partial
 * counts, which mem_range cannot do), then its unmapping. */
static void alias_range(void)
{
    uint64_t done = 0;
    while (done < ATTACK_PAGES) {
        int64_t r = TIMED(OP_ALIAS, hvg_hypercall6(HV_CALL_MEM_MAP, 0, ALIAS_VA + done * PAGE,
                                                   ATTACK_PAGES - done, MAP_VA + done * PAGE,
                                                   HV_PROT_READ, 0));
        if (r <= 0)
            break; /* done (0 without partial counts) or failed */
        done += (uint64_t)r;
    }
    mem_range(OP_ALIAS, HV_CALL_MEM_UNMAP, 0, ALIAS_VA, ATTACK_PAGES, 0, 0);
}

static void populated_space(void)
{
    int64_t space = TIMED(OP_SPACE, hvg_user_space_create());
    if (space <= 0)
        return;
    for (uint64_t i = 0; i < SPACE_CHUNKS; i++)
        mem_range(OP_SPACE, HV_CALL_MEM_MAP, (uint64_t)space, SPACE_VA + (i << 30),
                  SPACE_CHUNK_PAGES, 0, HV_PROT_READ | HV_PROT_WRITE);
    TIMED(OP_SPACE, hvg_user_space_destroy((uint64_t)space));
}

static char newlines[256];

static uint32_t poll_ports[POLL_PORTS];
static int64_t pending_port = -1;

static void poll_16(void)
{
    if (pending_port < 0)
        return;
    TIMED(OP_POLL, hvg_poll(poll_ports, POLL_PORTS, 0));
}

static struct hv_trap_info table[256];

/* 256 entries, all valid: vectors 0-47 get a handler (16 software-interrupt
 * vectors is the most allowed), the rest are removed. */
static void trap_table_256(void)
{
    TIMED(OP_TRAP_TABLE, hvg_set_trap_table(table, 256));
    TIMED(OP_TRAP_TABLE, hvg_set_trap_table(NULL, 0));
}

static int64_t ports[HV_EVTCHN_PORTS];

static void evtchn_storm(void)
{
    unsigned n = 0;
    while (n < HV_EVTCHN_PORTS) {
        int64_t p = TIMED(OP_EVTCHN, hvg_evtchn_bind_ipi(0));
        if (p < 0)
            break;
        ports[n++] = p;
    }
    for (unsigned i = 0; i < n; i++)
        TIMED(OP_EVTCHN, hvg_evtchn_send((uint64_t)ports[i]));
    for (unsigned i = 0; i < n; i++)
        TIMED(OP_EVTCHN, hvg_evtchn_close((uint64_t)ports[i]));
}

static void trap_handler(void)
{
    for (;;)
        hvg_exit(2); /* never entered: nothing here faults */
}

static void setup(void)
{
    for (unsigned i = 0; i < sizeof(newlines); i++)
        newlines[i] = '\n';
    for (unsigned v = 0; v < 256; v++) {
        table[v].vector = (uint8_t)v;
        table[v].handler = v < 48 ? (uint64_t)(uintptr_t)trap_handler : 0;
    }
    /* The poll's ports: 15 IPI ports never sent, then one sent. Events are
     * masked and there is no upcall entry: nothing is ever delivered, the
     * pending bit just stays, and every poll returns at once. */
    hvg_events_mask(0);
    for (unsigned i = 0; i < POLL_PORTS; i++) {
        int64_t p = hvg_evtchn_bind_ipi(0);
        if (p < 0)
            return;
        poll_ports[i] = (uint32_t)p;
    }
    if (hvg_evtchn_send(poll_ports[POLL_PORTS - 1]) == 0)
        pending_port = poll_ports[POLL_PORTS - 1];
}

static bool others_running(void)
{
    struct hv_guest_info info;

    return hvg_guest_info(&info) == 0 && info.guests_running > 1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    setup();
    uint64_t rounds = 0;
    for (; others_running(); rounds++) {
        mem_range(OP_MAP_FRESH, HV_CALL_MEM_MAP, 0, MAP_VA, ATTACK_PAGES, 0,
                  HV_PROT_READ | HV_PROT_WRITE);
        alias_range();
        mem_range(OP_PROTECT_RO, HV_CALL_MEM_PROTECT, 0, MAP_VA, ATTACK_PAGES, HV_PROT_READ, 0);
        mem_range(OP_PROTECT_RW, HV_CALL_MEM_PROTECT, 0, MAP_VA, ATTACK_PAGES,
                  HV_PROT_READ | HV_PROT_WRITE, 0);
        mem_range(OP_UNMAP, HV_CALL_MEM_UNMAP, 0, MAP_VA, ATTACK_PAGES, 0, 0);
        mem_range(OP_UNMAP_SPARSE, HV_CALL_MEM_UNMAP, 0, SPARSE_VA, SPARSE_PAGES, 0, 0);
        populated_space();
        TIMED(OP_CONSOLE, hvg_console_write(newlines, sizeof(newlines)));
        poll_16();
        trap_table_256();
        evtchn_storm();
    }
    for (unsigned i = 0; i < OP_COUNT; i++)
        hvg_printf("bench: name=attack_op op=%s calls=%llu errors=%llu longest_tsc=%llu\n",
                   op_names[i], (unsigned long long)stats[i].calls,
                   (unsigned long long)stats[i].errors, (unsigned long long)stats[i].longest);
    hvg_printf("bench: name=attack_rounds rounds=%llu\n", (unsigned long long)rounds);
    return 0;
}
