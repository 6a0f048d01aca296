/* The event bitmaps' marking (hv/event/evtchn.c, evtchn_send.c): one
 * instruction each, bts and bt. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Bit nr of the bitmap *map, an lvalue of its whole (an array of words,
 * or one word), nr < its bits (bt and bts address the bitmap as one
 * string of bits): set atomically, whether it was; and read. One
 * instruction each. The memory operand is the whole bitmap, the word bts
 * and bt really touch among them. The "memory" clobber orders them with
 * the rest of the send as the __atomic builtins' SEQ_CST did (the
 * selector and upcall_pending after the pending bit). */
#define bitmap_test_and_set(map, nr)                                                       \
    ({                                                                                     \
        bool was_;                                                                         \
        __asm__ volatile("lock btsq %2, %0"                                                \
                         : "+m"(*(map)), "=@ccc"(was_)                                     \
                         : "r"((uint64_t)(nr))                                             \
                         : "memory");                                                      \
        was_;                                                                              \
    })

#define bitmap_test(map, nr)                                                               \
    ({                                                                                     \
        bool set_;                                                                         \
        __asm__ volatile("btq %2, %1"                                                      \
                         : "=@ccc"(set_)                                                   \
                         : "m"(*(map)), "r"((uint64_t)(nr))                                \
                         : "memory");                                                      \
        set_;                                                                              \
    })
