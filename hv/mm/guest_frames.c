#include "hv/mm/guest_frames.h"

#include "hv/debug/panic.h"
#include "hv/mm/mm.h"

struct frame_info {
    uint16_t refs;
    uint8_t writable_maps; /* mappings with PTE_W */
    uint8_t exec_maps;     /* mappings with PTE_SW_EXEC */
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

static uint16_t *ref_of(uint64_t pa)
{
    struct frame_info *i = info_of(pa);
    return i ? &i->refs : NULL;
}

uint64_t guest_frame_new(void)
{
    uint64_t pa = frame_get_zeroed();
    uint16_t *r = pa ? ref_of(pa) : NULL;
    if (!r)
        return 0;
    *info_of(pa) = (struct frame_info){.refs = 1};
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
    uint16_t *r = ref_of(pa);
    if (!r || *r == 0 || *r == UINT16_MAX)
        return false;
    (*r)++;
    return true;
}

bool guest_frame_release(uint64_t pa)
{
    uint16_t *r = ref_of(pa);
    if (!r || *r == 0)
        panic("guest_frame_release: 0x%lx is not a guest frame", (unsigned long)pa);
    if (--*r)
        return false;
    frame_put(pa);
    return true;
}

bool guest_frame_may_map(uint64_t pa, uint64_t flags)
{
    struct frame_info *i = info_of(pa);
    if (!i)
        return false;
    if ((flags & PTE_W) && (i->exec_maps || i->writable_maps == UINT8_MAX))
        return false;
    if ((flags & PTE_SW_EXEC) && (i->writable_maps || i->exec_maps == UINT8_MAX))
        return false;
    return !((flags & PTE_W) && (flags & PTE_SW_EXEC));
}

void guest_frame_count_mapping(uint64_t pa, uint64_t flags, int delta)
{
    struct frame_info *i = info_of(pa);
    if (!i)
        panic("guest_frame_count_mapping: 0x%lx is not a guest frame", (unsigned long)pa);
    if (flags & PTE_W)
        i->writable_maps = (uint8_t)(i->writable_maps + delta);
    if (flags & PTE_SW_EXEC)
        i->exec_maps = (uint8_t)(i->exec_maps + delta);
}
