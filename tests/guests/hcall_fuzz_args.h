/* The hypercall fuzzer's state and the arguments it makes
 * (tests/guests/hcall_fuzz.c): the seeded random stream, boundary numbers,
 * hostile pointers and numbers, and plausible arguments of which one or two
 * are then made hostile. Included by hcall_fuzz.c only. */
#pragma once

#include "hvg.h"
#include "hvg_cpu.h"
#include "hvg_event.h"

#include "lib/string.h"

#define LOWER_HALF_END 0x0000800000000000ull
#define HV_DIRECT_MAP 0xffff888000000000ull
#define HV_CORE 0xffffffff80000000ull
#define PAGE 4096ull
/* Where its own memory operations in space 0 go: above its image, heap and
 * shared-memory slots, below HV_GUEST_MAP_LIMIT, so no range starting here
 * can reach its code, data or stacks. */
#define ARENA 0x00007ffe00000000ull
#define ARENA_PAGES 64
#define EXTRA_NUMBERS 8   /* out-of-range hypercall numbers among the choices */

static const char *my_name;
static uint64_t rng;
static uint64_t calls_wanted = 30000;
static bool end_mode;
static bool verbose;        /* -v: each call printed before it is made */
static uint64_t page_cap;    /* -m<pages>: 0, or the most pages a memory call names */
static uint64_t slowest_ns[HV_CALL_COUNT + 1], slow_calls;
#define SLOW_NS HVG_MS(50)

static uint64_t calls_done, failures, checks;
static uint64_t per_call[HV_CALL_COUNT + 1], per_ok[HV_CALL_COUNT + 1], per_err[HV_CALL_COUNT + 1];
static uint64_t err_count[128];

static struct hv_start_info si_copy;
static uint64_t si_va, shared_va, heap_start, heap_end;

static const char *const call_names[HV_CALL_COUNT] = {
    "console_write", "exit", "yield", "guest_info", "vcpu_info", "vcpu_exit", "nop",
    "set_trap_table", "set_syscall", "set_kernel_stack", "iret", "user_space_create",
    "user_space_destroy", "set_user_space", "mem_map", "mem_unmap", "mem_protect",
    "set_upcall", "evtchn_bind_virq", "evtchn_alloc_unbound", "evtchn_bind_peer",
    "evtchn_bind_ipi", "evtchn_send", "evtchn_close", "evtchn_unmask", "evtchn_status",
    "block", "poll", "set_timer", "console_read", "health_read",
};

/* The negated codes include/hv/abi.h documents. */
static bool documented_error(int64_t r)
{
    switch (-r) {
    case HV_EPERM: case HV_ENOENT: case HV_ESRCH: case HV_EAGAIN: case HV_ENOMEM:
    case HV_EFAULT: case HV_EBUSY: case HV_EEXIST: case HV_EINVAL: case HV_ENOSYS:
    case HV_ETIMEDOUT:
        return true;
    }
    return false;
}

/* splitmix64: tiny, and every seed (0 included) gives a good stream. */
static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return n ? next() % n : 0;
}

static void fail(const char *fmt, ...) HVG_PRINTF(1, 2);
static void fail(const char *fmt, ...)
{
    failures++;
    if (failures > 20)
        return;     /* the first ones say it; the count says the rest */
    va_list ap;
    va_start(ap, fmt);
    hvg_printf("%s: FAILED: ", my_name);
    hvg_vprintf(fmt, ap);
    va_end(ap);
}

/* --- values ------------------------------------------------------------------------ */

static const uint64_t boundary_numbers[] = {
    0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 255, 256, 257, 511, 512, 513, 1023, 1024,
    4095, 4096, 4097, 0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull,
    0x100000001ull, 1ull << 35, (1ull << 35) + 1, 0x7fff00000ull, 1ull << 52,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0xfffffffffffffffeull, UINT64_MAX,
};

/* A pointer hv may read or write through: never the fuzzer's own data. */
static uint64_t hostile_pointer(void)
{
    switch (below(22)) {
    case 0: return heap_start + below(2 * PAGE);                  /* its scratch: valid */
    case 1: return heap_end - 1 - below(8);                       /* crossing into unmapped */
    case 2: return si_va + below(PAGE);                            /* read-only start info */
    case 3: return si_va + PAGE - 8;                               /* start info -> shared page */
    case 4: return shared_va + 256 + below(200);                   /* unused vCPU slots */
    case 5: return shared_va + PAGE - 1 - below(8);                /* shared page -> unmapped */
    case 6: return (uint64_t)(uintptr_t)&next;                     /* its own code */
    case 7: return below(0x10000);                                 /* below the image: NULL page */
    case 8: return LOWER_HALF_END - PAGE + below(PAGE);            /* the last lower-half page */
    case 9: return LOWER_HALF_END - 1 - below(8);                  /* crossing into non-canonical */
    case 10: return LOWER_HALF_END + below(1ull << 40) * 8;        /* non-canonical */
    case 11: return HV_DIRECT_MAP + below(1ull << 30) * 8;         /* hv's direct map */
    case 12: return HV_CORE + below(1ull << 24) * 8;               /* hv's core */
    case 13: return UINT64_MAX - below(64);
    case 14: return 1ull << 63;
    case 15: return ARENA + below(ARENA_PAGES * PAGE);             /* maybe mapped by the fuzz */
    case 16: return HV_GUEST_MAP_LIMIT - 8 + below(16);
    case 17: return HV_GUEST_IMAGE_MAX - 8 + below(16);
    case 18: return 0x10000000ull + below(1ull << 30);             /* unmapped, lower half */
    case 19: return (uint64_t)(uintptr_t)"companion";              /* a peer's name */
    case 20: return (uint64_t)(uintptr_t)"no-such-guest";
    default: return next();
    }
}

static uint64_t hostile_number(void)
{
    switch (below(8)) {
    case 0: case 1: return boundary_numbers[below(sizeof(boundary_numbers) / sizeof(uint64_t))];
    case 2: return below(20);                                      /* small: ids, ports, spaces */
    case 3: return HV_EVTCHN_PORTS - 2 + below(4);                 /* ports at the edge */
    case 4: return (uint64_t)-(int64_t)(1 + below(16));
    case 5: return hostile_pointer();
    case 6: return next() >> below(64);
    default: return next();
    }
}

static uint64_t arg(void)
{
    return below(3) == 0 ? hostile_pointer() : hostile_number();
}

/* A hypercall number: mostly in range, sometimes far outside. */
static uint64_t pick_number(void)
{
    uint64_t k = below(HV_CALL_COUNT + EXTRA_NUMBERS);
    if (k < HV_CALL_COUNT)
        return k;
    static const uint64_t outside[] = { HV_CALL_COUNT, HV_CALL_COUNT + 1, 0xff, 0x100,
                                        0x100000000ull + HV_CALL_EXIT, 0x8000000000000000ull,
                                        UINT64_MAX };
    if (k == HV_CALL_COUNT)
        return next();
    return outside[below(sizeof(outside) / sizeof(outside[0]))];
}

/* --- plausible arguments -----------------------------------------------------------
 * Arguments that are all hostile stop at the first check; these get each
 * call deep into its work, and then one or two of them are made hostile. */

static uint64_t scratch(void)
{
    return heap_start + below(PAGE / 64) * 64;
}

static uint64_t some_source(void)
{
    switch (below(6)) {
    case 0: return 0;                                          /* fresh pages */
    case 1: return heap_start + below(4) * PAGE;
    case 2: return (uint64_t)(uintptr_t)&next & ~(PAGE - 1);   /* its code */
    case 3: return si_va;                                      /* read-only */
    case 4: return shared_va;
    default: return ARENA + below(ARENA_PAGES) * PAGE;
    }
}

static const char *some_name(void)
{
    switch (below(4)) {
    case 0: return "companion";
    case 1: return my_name;
    case 2: return "no-such-guest";
    default: return "";
    }
}

static void plausible(uint64_t nr, uint64_t a[6])
{
    uint64_t code = (uint64_t)(uintptr_t)&next;
    uint64_t *buf = (uint64_t *)(uintptr_t)heap_start;
    switch (nr) {
    case HV_CALL_GUEST_INFO: a[0] = scratch(); break;
    case HV_CALL_VCPU_INFO: a[0] = below(4); a[1] = scratch(); break;
    case HV_CALL_SET_TRAP_TABLE:
        for (unsigned i = 0; i < 8; i++) {
            buf[2 * i] = below(256) | below(8) << 8;
            buf[2 * i + 1] = below(2) ? code : hostile_pointer();
        }
        a[0] = heap_start;
        a[1] = below(9);
        break;
    case HV_CALL_SET_SYSCALL: a[0] = code; a[1] = below(2); break;
    case HV_CALL_SET_KERNEL_STACK: a[0] = heap_start + below(4) * PAGE; break;
    case HV_CALL_USER_SPACE_DESTROY:
    case HV_CALL_SET_USER_SPACE: a[0] = below(HV_MAX_USER_SPACES + 2); break;
    case HV_CALL_MEM_MAP:
    case HV_CALL_MEM_UNMAP:
    case HV_CALL_MEM_PROTECT:
        a[0] = below(HV_MAX_USER_SPACES + 2);
        a[1] = (below(2) ? ARENA : 0x400000ull) + below(ARENA_PAGES) * PAGE;
        a[2] = 1 + below(8);
        if (nr == HV_CALL_MEM_MAP) {
            a[3] = some_source();
            a[4] = below(8);
        } else {
            a[3] = below(8);
        }
        break;
    case HV_CALL_SET_UPCALL: a[0] = code; break;
    case HV_CALL_EVTCHN_BIND_VIRQ: a[0] = below(4); break;
    case HV_CALL_EVTCHN_ALLOC_UNBOUND: a[0] = (uint64_t)(uintptr_t)some_name(); break;
    case HV_CALL_EVTCHN_BIND_PEER:
        a[0] = (uint64_t)(uintptr_t)some_name();
        a[1] = below(HV_EVTCHN_PORTS + 4);
        break;
    case HV_CALL_EVTCHN_BIND_IPI: a[0] = below(4); break;
    case HV_CALL_EVTCHN_SEND:
    case HV_CALL_EVTCHN_CLOSE:
    case HV_CALL_EVTCHN_UNMASK: a[0] = below(HV_EVTCHN_PORTS + 4); break;
    case HV_CALL_EVTCHN_STATUS: a[0] = below(HV_EVTCHN_PORTS + 4); a[1] = scratch(); break;
    case HV_CALL_POLL:
        for (unsigned i = 0; i < 9; i++)
            ((uint32_t *)buf)[i] = (uint32_t)below(HV_EVTCHN_PORTS + 4);
        a[0] = heap_start;
        a[1] = below(18);
        break;
    case HV_CALL_SET_TIMER: a[0] = below(2) ? 0 : hvg_now() + below(HVG_MS(1)); break;
    case HV_CALL_CONSOLE_READ: a[0] = scratch(); a[1] = below(300); break;
    }
}
