/* hv as the backend of a Xen guest's PV console ring (public
 * io/console.h, struct xencons_interface at start_info.console.mfn): the
 * guest writes out[] and advances out_prod, then notifies the console's
 * event channel or waits for out_cons to catch up; hv prints what is
 * there and advances out_cons. Guests that write every piece both through
 * console_io and through the ring would print it twice (XTF writes a line
 * to console_io, then to the ring; Unikraft's console layer writes each
 * piece to the ring, then to console_io): bytes that repeat what the other
 * way printed last (the echo window) are taken without printing them
 * again. */
#include "hv/xen/xen_console.h"

#include "hv/guest/console.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/xen/xen.h"
#include "hv/xen/xen_echo.h"
#include "lib/string.h"

#define OUT_BYTES ((uint32_t)sizeof(((struct xen_console_interface *)0)->out))
_Static_assert((OUT_BYTES & (OUT_BYTES - 1)) == 0, "the ring's size is a power of two (a mask indexes it)");

/* Remembers bytes one way printed; bytes of the other way's window are
 * forgotten first (a difference came between them). */
static void echo(struct guest *g, bool from_ring, const char *buf, uint64_t n)
{
    struct xen_guest *x = g->xen;
    if (x->echo_ring != from_ring) {
        x->echo_len = 0;
        x->echo_ring = from_ring;
    }
    if (n >= XEN_ECHO_BYTES) {
        buf += n - XEN_ECHO_BYTES;
        n = XEN_ECHO_BYTES;
    }
    if (x->echo_len + n > XEN_ECHO_BYTES) { /* keep the newest */
        uint32_t drop = (uint32_t)(x->echo_len + n - XEN_ECHO_BYTES);
        memmove(x->echo, x->echo + drop, x->echo_len - drop);
        x->echo_len -= drop;
    }
    memcpy(x->echo + x->echo_len, buf, n);
    x->echo_len += (uint32_t)n;
}

bool xen_console_drain(struct guest *g)
{
    struct xen_guest *x = g->xen;
    const struct xen_layout *l = &x->layout;
    uint64_t pfn = (l->console - l->virt_base) / 4096;
    volatile struct xen_console_interface *ring = phys_to_virt(*xen_p2m_slot(x, pfn));
    uint32_t cons = ring->out_cons, prod = ring->out_prod;
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the bytes after the index */
    uint32_t avail = prod - cons;
    bool sane = avail <= OUT_BYTES;
    if (!sane)
        avail = OUT_BYTES; /* a guest's nonsense: at most one ring's worth, bounded */
    uint32_t done = 0, end = avail; /* bytes from end on: an echo at the end */
    if (!x->echo_ring && x->echo_len) { /* the echo of what console_io printed last */
        done = xen_echo_match(x->echo, x->echo_len, ring->out, OUT_BYTES - 1, cons, avail);
        if (!done)
            end = xen_echo_tail(x->echo, x->echo_len, ring->out, OUT_BYTES - 1, cons, avail);
        x->echo_len = 0; /* used: what follows is new either way */
    }
    char piece[256];
    bool left = false;
    while (done < end) {
        uint32_t n = 0;
        while (n < sizeof(piece) && done + n < end) {
            char c = ring->out[(cons + done + n) % OUT_BYTES];
            if (c == '\r') { /* Xen guests end lines with CR LF; hv's log with LF */
                if (n)
                    break;
                done++;
                continue;
            }
            piece[n++] = c;
        }
        if (!n)
            continue;
        int64_t taken = guest_console_write(g, piece, n);
        if (taken > 0) {
            done += (uint32_t)taken;
            echo(g, true, piece, (uint64_t)taken);
        }
        if (taken < (int64_t)n) {
            left = true;
            break; /* over its rate: the rest stays in the ring for the next drain */
        }
    }
    if (!left && done == end)
        done = avail; /* the echo at the end, taken without printing */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    ring->out_cons = cons + done;
    return left && sane; /* nonsense indices are never waited for */
}

int64_t xen_console_write(struct guest *g, const char *buf, uint64_t n)
{
    struct xen_guest *x = g->xen;
    char out[256];
    uint64_t kept = 0, skip = 0;
    if (n > sizeof(out))
        n = sizeof(out);
    for (uint64_t i = 0; i < n; i++)
        if (buf[i] != '\r')
            out[kept++] = buf[i];
    if (x->echo_ring && x->echo_len) { /* the echo of what the ring printed last */
        skip = xen_echo_match(x->echo, x->echo_len, out, ~0u, 0, (uint32_t)kept);
        x->echo_len = 0; /* used: what follows is new either way */
    }
    int64_t taken = 0;
    if (kept > skip) {
        taken = guest_console_write(g, out + skip, kept - skip);
        if (taken > 0)
            echo(g, false, out + skip, (uint64_t)taken);
        else if (skip == 0)
            return taken < 0 ? taken : 0;
        else
            taken = 0;
    }
    if (skip + (uint64_t)taken == kept)
        return (int64_t)n;
    /* Part of it: the input bytes up to the last one skipped or taken. */
    uint64_t i = 0;
    for (uint64_t k = 0; k < skip + (uint64_t)taken; i++)
        k += buf[i] != '\r';
    return (int64_t)i;
}
