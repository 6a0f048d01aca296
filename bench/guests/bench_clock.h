/* System time at a TSC reading taken earlier (an upcall handler's first
 * instruction, say): abi_event.h's formula, as hvg_now() uses it for the
 * TSC of now. Shared by bench-main (timer_deadline_late) and bench-timer
 * (timer_late_under_attack). */
#pragma once

#include "hvg.h"
#include "hvg_cpu.h"

static inline uint64_t bench_system_ns_at(uint64_t tsc)
{
    __extension__ typedef unsigned __int128 u128;
    volatile struct hv_time_info *t = &hvg_shared()->time;

    for (;;) {
        uint32_t version = __atomic_load_n(&t->version, __ATOMIC_ACQUIRE);
        uint64_t stamp = t->tsc_timestamp, system = t->system_time_ns;
        uint32_t mul = t->tsc_to_ns_mul;
        int8_t shift = t->tsc_shift;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if ((version & 1) || __atomic_load_n(&t->version, __ATOMIC_ACQUIRE) != version)
            continue;
        u128 d = tsc > stamp ? tsc - stamp : 0;
        if (shift >= 0)
            d <<= shift < 64 ? shift : 63;
        else
            d >>= -shift < 64 ? -shift : 63;
        return system + (uint64_t)((d * mul) >> 32);
    }
}
