/* hv as the backend of a Xen guest's PV console ring (public
 * io/console.h, struct xencons_interface at start_info.console.mfn): the
 * guest writes out[] and advances out_prod, then notifies the console's
 * event channel or waits for out_cons to catch up; hv prints what is
 * there and advances out_cons. Guests that write every line both through
 * console_io and through the ring (XTF does) would print it twice: bytes
 * that repeat what console_io printed last (the echo window) are taken
 * from the ring without printing them again. */
#include "hv/xen/xen_console.h"

#include "hv/guest/console.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/xen/xen.h"
#include "lib/string.h"

#define OUT_BYTES sizeof(((struct xen_console_interface *)0)->out)

static void echo(struct guest *g, const char *buf, uint64_t n)
{
    struct xen_guest *x = g->xen;
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

void xen_console_drain(struct guest *g)
{
    struct xen_guest *x = g->xen;
    const struct xen_layout *l = &x->layout;
    uint64_t pfn = (l->console - l->virt_base) / 4096;
    volatile struct xen_console_interface *ring = phys_to_virt(*xen_p2m_slot(x, pfn));
    uint32_t cons = ring->out_cons, prod = ring->out_prod;
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the bytes after the index */
    uint32_t avail = prod - cons;
    if (avail > OUT_BYTES)
        avail = OUT_BYTES; /* a guest's nonsense: at most one ring's worth, bounded */
    char piece[256];
    uint32_t done = 0, matched = 0;
    while (done < avail) {
        uint32_t n = 0;
        while (n < sizeof(piece) && done + n < avail) {
            char c = ring->out[(cons + done + n) % OUT_BYTES];
            if (c == '\r') { /* Xen guests end lines with CR LF; hv's log with LF */
                if (n)
                    break;
                done++;
                continue;
            }
            if (n == 0 && matched < x->echo_len && x->echo[matched] == c) {
                matched++;
                done++; /* already printed through console_io */
                continue;
            }
            matched = x->echo_len; /* a difference: the window is spent */
            piece[n++] = c;
        }
        if (!n)
            continue;
        int64_t taken = guest_console_write(g, piece, n);
        if (taken > 0)
            done += (uint32_t)taken;
        if (taken < (int64_t)n)
            break; /* over its rate: the rest stays in the ring for the next drain */
    }
    if (matched >= x->echo_len) {
        x->echo_len = 0;
    } else if (matched) {
        memmove(x->echo, x->echo + matched, x->echo_len - matched);
        x->echo_len -= matched;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    ring->out_cons = cons + done;
}

int64_t xen_console_write(struct guest *g, const char *buf, uint64_t n)
{
    char out[256];
    uint64_t kept = 0;
    if (n > sizeof(out))
        n = sizeof(out);
    for (uint64_t i = 0; i < n; i++)
        if (buf[i] != '\r')
            out[kept++] = buf[i];
    if (kept == 0)
        return (int64_t)n;
    int64_t taken = guest_console_write(g, out, kept);
    if (taken <= 0)
        return taken < 0 ? taken : 0;
    echo(g, out, (uint64_t)taken);
    if ((uint64_t)taken == kept)
        return (int64_t)n;
    /* Part of it: the input bytes up to the last one taken. */
    uint64_t i = 0;
    for (int64_t k = 0; k < taken; i++)
        k += buf[i] != '\r';
    return (int64_t)i;
}
