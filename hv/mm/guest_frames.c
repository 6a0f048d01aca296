#include "hv/mm/guest_frames.h"

#include "hv/debug/panic.h"
#include "hv/mm/mm.h"

static uint16_t *refs;
static uint64_t first_page, page_count;

bool guest_frames_init(void)
{
    mm_frame_range(&first_page, &page_count);
    refs = kalloc_zeroed(page_count * sizeof(*refs));
    return refs != NULL;
}

static uint16_t *ref_of(uint64_t pa)
{
    uint64_t page = pa >> 12;
    if (page < first_page || page - first_page >= page_count)
        return NULL;
    return &refs[page - first_page];
}

uint64_t guest_frame_new(void)
{
    uint64_t pa = frame_get_zeroed();
    uint16_t *r = pa ? ref_of(pa) : NULL;
    if (!r)
        return 0;
    *r = 1;
    return pa;
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
