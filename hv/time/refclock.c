#include "hv/time/refclock.h"

#include "hv/console/log.h"
#include "hv/cpu/x86.h"
#include "hv/mm/mm.h"
#include "hv/time/timescale.h"

/* A counter that never moves would turn a wait into a hang: give up after
 * this many reads without change. */
#define STUCK_READS 10000000u

#define HPET_REG_CAPS 0x000
#define HPET_REG_CONFIG 0x010
#define HPET_REG_COUNTER 0x0f0
#define HPET_CONFIG_ENABLE 1u
#define HPET_CAPS_64BIT (1u << 13)

static volatile uint64_t *hpet;
static uint64_t hpet_hz;
static uint64_t hpet_mask;
static uint16_t pm_port;
static uint64_t pm_mask;

#define PM_TIMER_HZ 3579545ULL
#define PIT_HZ 1193182ULL

/* Reads `read` until the counter advanced to `*elapsed >= ticks`, counting
 * from `*last`; false if it stopped moving. */
static bool advance_until(uint64_t (*read)(void), uint64_t mask, uint64_t *last,
                          uint64_t *elapsed, uint64_t ticks)
{
    unsigned unchanged = 0;
    while (*elapsed < ticks) {
        uint64_t now = read();
        if (now == *last) {
            if (++unchanged == STUCK_READS)
                return false;
        } else {
            unchanged = 0;
            /* Accumulate per step so a narrow counter may wrap many times. */
            *elapsed += (now - *last) & mask;
            *last = now;
        }
        cpu_relax();
    }
    return true;
}

/* Waits until a free-running counter of `mask` width advanced `ticks`. */
static bool wait_counter(uint64_t (*read)(void), uint64_t mask, uint64_t ticks)
{
    uint64_t last = read(), elapsed = 0;
    return advance_until(read, mask, &last, &elapsed, ticks);
}

static uint64_t hpet_read(void)
{
    return hpet[HPET_REG_COUNTER / 8];
}

static bool hpet_wait_ns(uint64_t ns)
{
    return wait_counter(hpet_read, hpet_mask, muldiv64(ns, hpet_hz, 1000000000ULL));
}

static uint64_t pm_read(void)
{
    return inl(pm_port);
}

static bool pm_wait_ns(uint64_t ns)
{
    return wait_counter(pm_read, pm_mask, muldiv64(ns, PM_TIMER_HZ, 1000000000ULL));
}

/* PIT channel 2, gated through port 0x61, in mode 0: OUT goes high when the
 * count reaches zero. At most ~54 ms per round; longer waits loop. */
static bool pit_wait_ns(uint64_t ns)
{
    uint64_t ticks = muldiv64(ns, PIT_HZ, 1000000000ULL);
    while (ticks) {
        uint16_t count = ticks > 0xffff ? 0xffff : (uint16_t)ticks;
        ticks -= count;
        uint8_t gate = inb(0x61);
        outb(0x61, (uint8_t)((gate & ~0x02) & ~0x01)); /* gate low, speaker off */
        outb(0x43, 0xb0);                              /* channel 2, lobyte/hibyte, mode 0 */
        outb(0x42, (uint8_t)count);
        outb(0x42, (uint8_t)(count >> 8));
        outb(0x61, (uint8_t)((gate & ~0x02) | 0x01)); /* gate high: count */
        unsigned spins = 0;
        while (!(inb(0x61) & 0x20))
            if (++spins == STUCK_READS)
                return false;
    }
    return true;
}

static const struct refclock clocks[] = {
    {"HPET", hpet_wait_ns, hpet_read},
    {"ACPI PM timer", pm_wait_ns, pm_read},
    {"PIT", pit_wait_ns, NULL},
};

/* The width and rate of a readable clock's counter (set up by available). */
static void counter_shape(const struct refclock *ref, uint64_t *mask, uint64_t *hz)
{
    if (ref == &clocks[0]) {
        *mask = hpet_mask;
        *hz = hpet_hz;
    } else {
        *mask = pm_mask;
        *hz = PM_TIMER_HZ;
    }
}

void refclock_stopwatch_start(const struct refclock *ref, struct refclock_stopwatch *sw,
                              uint64_t reading)
{
    sw->ref = ref;
    sw->last = reading;
    sw->elapsed = 0;
}

bool refclock_stopwatch_wait(struct refclock_stopwatch *sw, uint64_t ns)
{
    uint64_t mask, hz;
    counter_shape(sw->ref, &mask, &hz);
    /* At least one read: the time already spent counts. */
    uint64_t now = sw->ref->read();
    sw->elapsed += (now - sw->last) & mask;
    sw->last = now;
    return advance_until(sw->ref->read, mask, &sw->last, &sw->elapsed,
                         muldiv64(ns, hz, 1000000000ULL));
}

uint64_t refclock_stopwatch_stop(struct refclock_stopwatch *sw, uint64_t reading, uint64_t *hz)
{
    uint64_t mask;
    counter_shape(sw->ref, &mask, hz);
    sw->elapsed += (reading - sw->last) & mask;
    sw->last = reading;
    return sw->elapsed;
}

static bool hpet_setup(const struct acpi_info *acpi)
{
    if (hpet)
        return true;
    if (!acpi->have_hpet)
        return false;
    hpet = mmio_map(acpi->hpet_phys, 1024, MMIO_UNCACHED);
    if (!hpet)
        return false;
    uint64_t caps = hpet[HPET_REG_CAPS / 8];
    uint32_t period_fs = (uint32_t)(caps >> 32);
    /* The spec bounds the period to (0, 100 ns]. */
    if (period_fs == 0 || period_fs > 100000000u) {
        log_warn("hpet: period of %u fs is out of range; HPET not used", period_fs);
        hpet = NULL;
        return false;
    }
    hpet_hz = 1000000000000000ULL / period_fs;
    hpet_mask = (caps & HPET_CAPS_64BIT) ? ~0ULL : 0xffffffffULL;
    hpet[HPET_REG_CONFIG / 8] |= HPET_CONFIG_ENABLE;
    return true;
}

static bool available(const struct acpi_info *acpi, unsigned i)
{
    switch (i) {
    case 0:
        return hpet_setup(acpi);
    case 1:
        if (!acpi->have_pm_timer)
            return false;
        pm_port = acpi->pm_timer_port;
        pm_mask = acpi->pm_timer_32bit ? 0xffffffffULL : 0xffffffULL;
        return true;
    default:
        return true; /* the PIT; if absent the stuck check rejects it */
    }
}

const struct refclock *refclock_next(const struct acpi_info *acpi, const struct refclock *current)
{
    unsigned start = current ? (unsigned)(current - clocks) + 1 : 0;
    for (unsigned i = start; i < sizeof(clocks) / sizeof(clocks[0]); i++)
        if (available(acpi, i))
            return &clocks[i];
    return NULL;
}

const struct refclock *refclock_pick(const struct acpi_info *acpi)
{
    return refclock_next(acpi, NULL);
}
