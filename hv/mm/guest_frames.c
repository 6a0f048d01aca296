#include "hv/mm/guest_frames.h"

#include "hv/debug/panic.h"
#include "hv/mm/mm.h"
#include "include/hv/abi.h"

/* Counters wide enough for any real use, and each checked against its
 * limit before it is incremented, so none can wrap.
 *
 * SMP: a frame of a [shm] region is mapped by several guests, whose vCPUs
 * run on several CPUs under their own guests' locks, so no lock covers
 * all of a frame's users. The three counters share one 64-bit word and
 * every change is a compare-and-swap of the whole word: a check and its
 * effect (W^X, the limits, the last reference) are one atomic step, with
 * no global lock on the MEM_* paths (docs/design.md, "Locking"). */
struct frame_info {
    uint32_t refs;
    uint16_t writable_maps; /* mappings with PTE_W */
    uint16_t exec_maps;     /* mappings with PTE_SW_EXEC */
};

union frame_word {
    struct frame_info f;
    uint64_t word;
};
_Static_assert(sizeof(union frame_word) == 8, "one compare-and-swap covers a frame's counters");

static union frame_word *info;
static uint64_t first_page, page_count;

bool guest_frames_init(void)
{
    mm_frame_range(&first_page, &page_count);
    info = kalloc_zeroed(page_count * sizeof(*info));
    return info != NULL;
}

static union frame_word *info_of(uint64_t pa)
{
    uint64_t page = pa >> 12;
    if (page < first_page || page - first_page >= page_count)
        return NULL;
    return &info[page - first_page];
}

static union frame_word load(const union frame_word *w)
{
    return (union frame_word){.word = __atomic_load_n(&w->word, __ATOMIC_ACQUIRE)};
}

/* Replaces *seen by next if *w still holds it; else *seen is reloaded. */
static bool swap(union frame_word *w, union frame_word *seen, union frame_word next)
{
    return __atomic_compare_exchange_n(&w->word, &seen->word, next.word, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static void set_one_ref(union frame_word *w)
{
    __atomic_store_n(&w->word, ((union frame_word){.f = {.refs = 1}}).word, __ATOMIC_RELEASE);
}

uint64_t guest_frame_new(struct frame_reservation *r)
{
    uint64_t pa = frame_get_charged(r);
    if (!pa)
        return 0;
    union frame_word *i = info_of(pa);
    if (!i) {
        frame_put_charged(r, pa);
        return 0;
    }
    set_one_ref(i);
    return pa;
}

void guest_frame_adopt(uint64_t pa)
{
    union frame_word *i = info_of(pa);
    if (!i)
        panic("guest_frame_adopt: 0x%lx is outside managed memory", (unsigned long)pa);
    set_one_ref(i);
}

bool guest_frame_share(uint64_t pa)
{
    union frame_word *i = info_of(pa);
    if (!i)
        return false;
    union frame_word seen = load(i), next;
    do {
        if (seen.f.refs == 0 || seen.f.refs == GUEST_FRAME_MAX_REFS)
            return false;
        next = seen;
        next.f.refs++;
    } while (!swap(i, &seen, next));
    return true;
}

bool guest_frame_release(uint64_t pa, struct frame_reservation *r)
{
    union frame_word *i = info_of(pa);
    if (!i)
        panic("guest_frame_release: 0x%lx is not a guest frame", (unsigned long)pa);
    union frame_word seen = load(i), next;
    do {
        if (seen.f.refs == 0)
            panic("guest_frame_release: 0x%lx is not a guest frame", (unsigned long)pa);
        next = seen;
        next.f.refs--;
    } while (!swap(i, &seen, next));
    if (next.f.refs)
        return false;
    if (next.f.writable_maps || next.f.exec_maps)
        panic("guest_frame_release: 0x%lx freed with mappings counted", (unsigned long)pa);
    if (r)
        frame_put_charged(r, pa);
    else
        frame_put(pa);
    return true;
}

int guest_frame_add_mapping(uint64_t pa, uint64_t flags)
{
    union frame_word *i = info_of(pa);
    bool w = flags & PTE_W, x = flags & PTE_SW_EXEC;
    if (!i || (w && x))
        return -HV_EPERM;
    union frame_word seen = load(i), next;
    do {
        if ((w && seen.f.exec_maps) || (x && seen.f.writable_maps))
            return -HV_EPERM;
        if ((w && seen.f.writable_maps == GUEST_FRAME_MAX_MAPS) ||
            (x && seen.f.exec_maps == GUEST_FRAME_MAX_MAPS))
            return -HV_ENOMEM;
        next = seen;
        next.f.writable_maps += w;
        next.f.exec_maps += x;
    } while (!swap(i, &seen, next));
    return 0;
}

void guest_frame_drop_mapping(uint64_t pa, uint64_t flags)
{
    union frame_word *i = info_of(pa);
    bool w = flags & PTE_W, x = flags & PTE_SW_EXEC;
    if (!i)
        panic("guest_frame_drop_mapping: 0x%lx has no such mapping counted", (unsigned long)pa);
    union frame_word seen = load(i), next;
    do {
        if ((w && seen.f.writable_maps == 0) || (x && seen.f.exec_maps == 0))
            panic("guest_frame_drop_mapping: 0x%lx has no such mapping counted", (unsigned long)pa);
        next = seen;
        next.f.writable_maps -= w;
        next.f.exec_maps -= x;
    } while (!swap(i, &seen, next));
}
