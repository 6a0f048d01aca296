#include "hv/mm/guest_frames.h"

#include "hv/debug/panic.h"
#include "hv/mm/mm.h"
#include "include/hv/abi.h"

/* Counters wide enough for any real use, and each checked against its
 * limit before it is incremented, so none can wrap. */
struct frame_info {
    uint32_t refs;
    uint16_t writable_maps; /* mappings with PTE_W */
    uint16_t exec_maps;     /* mappings with PTE_SW_EXEC */
};

static struct frame_info *info;
static uint64_t first_page, page_count;

bool guest_frames_init(void)
{
    mm_frame_range(&first_page, &page_count);
    info = kalloc_zeroed(page_count * sizeof(*info));
    return info != NULL;
}

static struct frame_info *info_of(uint64_t pa)
{
    uint64_t page = pa >> 12;
    if (page < first_page || page - first_page >= page_count)
        return NULL;
    return &info[page - first_page];
}

uint64_t guest_frame_new(struct frame_reservation *r)
{
    uint64_t pa = frame_get_charged(r);
    if (!pa)
        return 0;
    struct frame_info *i = info_of(pa);
    if (!i) {
        frame_put_charged(r, pa);
        return 0;
    }
    *i = (struct frame_info){.refs = 1};
    return pa;
}

void guest_frame_adopt(uint64_t pa)
{
    struct frame_info *i = info_of(pa);
    if (!i)
        panic("guest_frame_adopt: 0x%lx is outside managed memory", (unsigned long)pa);
    *i = (struct frame_info){.refs = 1};
}

bool guest_frame_share(uint64_t pa)
{
    struct frame_info *i = info_of(pa);
    if (!i || i->refs == 0 || i->refs == GUEST_FRAME_MAX_REFS)
        return false;
    i->refs++;
    return true;
}

bool guest_frame_release(uint64_t pa, struct frame_reservation *r)
{
    struct frame_info *i = info_of(pa);
    if (!i || i->refs == 0)
        panic("guest_frame_release: 0x%lx is not a guest frame", (unsigned long)pa);
    if (--i->refs)
        return false;
    if (i->writable_maps || i->exec_maps)
        panic("guest_frame_release: 0x%lx freed with mappings counted", (unsigned long)pa);
    if (r)
        frame_put_charged(r, pa);
    else
        frame_put(pa);
    return true;
}

int guest_frame_add_mapping(uint64_t pa, uint64_t flags)
{
    struct frame_info *i = info_of(pa);
    bool w = flags & PTE_W, x = flags & PTE_SW_EXEC;
    if (!i || (w && x))
        return -HV_EPERM;
    if ((w && i->exec_maps) || (x && i->writable_maps))
        return -HV_EPERM;
    if ((w && i->writable_maps == GUEST_FRAME_MAX_MAPS) ||
        (x && i->exec_maps == GUEST_FRAME_MAX_MAPS))
        return -HV_ENOMEM;
    if (w)
        i->writable_maps++;
    if (x)
        i->exec_maps++;
    return 0;
}

void guest_frame_drop_mapping(uint64_t pa, uint64_t flags)
{
    struct frame_info *i = info_of(pa);
    bool w = flags & PTE_W, x = flags & PTE_SW_EXEC;
    if (!i || (w && i->writable_maps == 0) || (x && i->exec_maps == 0))
        panic("guest_frame_drop_mapping: 0x%lx has no such mapping counted", (unsigned long)pa);
    if (w)
        i->writable_maps--;
    if (x)
        i->exec_maps--;
}
