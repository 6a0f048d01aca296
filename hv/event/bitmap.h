/* The event bitmaps' marking (hv/event/evtchn.c, evtchn_send.c): one
 * instruction each, bts and bt. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "include/hv/abi.h"

/* Bit nr of a port bitmap (nr < HV_EVTCHN_PORTS; bt and bts address it as
 * one string of bits), or of one word (nr < 64): set atomically, whether it
 * was; and read. One instruction each; the memory operand is the whole
 * bitmap, the word bts and bt really touch among them. The "memory"
 * clobber orders them with the rest of the send as the __atomic
 * builtins' SEQ_CST did (the selector and upcall_pending after the
 * pending bit). */
static inline bool bitmap_test_and_set(uint64_t (*map)[HV_EVTCHN_WORDS], uint64_t nr)
{
    bool was;
    __asm__ volatile("lock btsq %2, %0" : "+m"(*map), "=@ccc"(was) : "r"(nr) : "memory");
    return was;
}

static inline bool bitmap_test(const uint64_t (*map)[HV_EVTCHN_WORDS], uint64_t nr)
{
    bool set;
    __asm__ volatile("btq %2, %1" : "=@ccc"(set) : "m"(*map), "r"(nr) : "memory");
    return set;
}

static inline bool word_test_and_set(uint64_t *word, uint64_t nr)
{
    bool was;
    __asm__ volatile("lock btsq %2, %0" : "+m"(*word), "=@ccc"(was) : "r"(nr) : "memory");
    return was;
}
