/* Shared by the two halves of a guest's life: hv/guest/guest.c (creation,
 * its spaces, the summary) and hv/guest/guest_end.c (its end, reaping).
 * Not for the rest of hv: hv/guest/guest.h is the interface. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Guests alive (a restarting one counts) and ended but not freed yet;
 * changed with atomics: a guest may end on any CPU. */
extern uint32_t guest_alive_count, guest_unreaped_count;

static inline void guest_copy_name(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}
