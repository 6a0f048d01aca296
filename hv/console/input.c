#include "hv/console/input.h"

#include "hv/console/fbcon.h"
#include "hv/console/keymap.h"
#include "hv/console/log.h"
#include "hv/console/ps2.h"
#include "hv/console/serial.h"
#include "hv/cpu/x86.h"
#include "hv/time/time.h"
#include "hv/event/evtchn.h"
#include "hv/guest/console.h"
#include "hv/guest/guest.h"
#include "vcpu/vcpu.h"

#define CTRL_A 0x01

static struct guest *focus;
static bool escape;

struct guest *console_focus(void)
{
    if (!focus || focus->end != GUEST_ALIVE) {
        focus = NULL;
        for (struct guest *g = guest_list(); g && !focus; g = g->next)
            if (g->end == GUEST_ALIVE)
                focus = g;
    }
    return focus;
}

static void move_focus(void)
{
    struct guest *from = console_focus();
    if (!from)
        return;
    struct guest *g = from->next;
    for (; g && g->end != GUEST_ALIVE; g = g->next)
        ;
    if (!g)
        for (g = guest_list(); g && g->end != GUEST_ALIVE; g = g->next)
            ;
    focus = g;
    if (g)
        log_info("console: input goes to guest %s", g->name);
}

static void deliver(char c)
{
    struct guest *g = console_focus();
    if (!g)
        return;
    if (!guest_console_input_put(g, c))
        return; /* the guest is not reading: drop, as a full UART would */
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        if (g->vcpus[i]->ev.virq_port[HV_VIRQ_CONSOLE] != NO_PORT) {
            evtchn_raise_virq(g->vcpus[i], HV_VIRQ_CONSOLE);
            break;
        }
}

/* One byte typed, from either source: the focus keys act, the rest goes
 * to the guest with the focus. One escape state for both: a user types on
 * one of them at a time. */
static void take(char c)
{
    if (escape) {
        escape = false;
        if (c == 'n')
            move_focus();
        else if (c == CTRL_A)
            deliver(CTRL_A);
        return;
    }
    if (c == CTRL_A) {
        escape = true;
        return;
    }
    deliver(c);
}

/* Scan codes taken per poll: a fast typist makes a few per 20 ms; a
 * controller that always has more is stuck (ps2_poll_saturated). */
#define PS2_BYTES_PER_POLL 32

static struct keymap_state keys;

/* Reads the keyboard: typed bytes go to `typed_fn` (NULL: dropped), the
 * scroll keys move the screen. */
static void poll_keyboard(void (*typed_fn)(char))
{
    int c;
    unsigned n = 0;
    for (; n < PS2_BYTES_PER_POLL && (c = ps2_getc()) >= 0; n++) {
        char typed[KEYMAP_OUT_MAX];
        enum keymap_action action;
        unsigned len = keymap_feed(&keys, (uint8_t)c, typed, &action);
        for (unsigned i = 0; typed_fn && i < len && i < KEYMAP_OUT_MAX; i++)
            typed_fn(typed[i]);
        if (action == KEYMAP_SCROLL_BACK)
            fbcon_scroll(1);
        else if (action == KEYMAP_SCROLL_FORWARD)
            fbcon_scroll(-1);
        else if (action == KEYMAP_SCROLL_OLDEST)
            fbcon_scroll(FBCON_SCROLL_ALL);
        else if (action == KEYMAP_SCROLL_NEWEST)
            fbcon_scroll(-FBCON_SCROLL_ALL);
    }
    ps2_poll_saturated(n == PS2_BYTES_PER_POLL);
}

void console_input_poll(void)
{
    int c;
    while ((c = serial_getc()) >= 0)
        take((char)c);
    poll_keyboard(take);
}

void console_halt_forever(void)
{
    irq_disable();
    if (!ps2_present() || !fbcon_present())
        halt_forever();
    log_info("Shift+Page Up / Page Down / Home / End scroll the screen through its history");
    log_flush();
    for (;;) {
        fbcon_flush(); /* draws what the keys changed */
        /* Spinning, not halting: with interrupts off only a timer could
         * wake a halted CPU, and hv's timer belongs to the scheduler. */
        time_spin_ns(CONSOLE_POLL_NS);
        poll_keyboard(NULL);
    }
}

unsigned console_listeners;
