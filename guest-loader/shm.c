#include "guest-loader/shm.h"

#include "guest-loader/guest_params.h"
#include "hv/config/config.h"
#include "hv/console/log.h"
#include "hv/cpu/features.h"
#include "hv/guest/guest.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define MAX_REGIONS 8
#define MAX_MAPS 8
#define MIN_BYTES 4096ULL
#define MAX_BYTES (64ULL << 20)
#define PAGE 4096ULL
/* Where a guest's shared regions go: slot i at BASE + i * STRIDE, above
 * the image area and below the stacks. */
#define SHM_BASE 0x00007ff000000000ULL
#define SHM_STRIDE (1ULL << 30)

struct region {
    char name[16];
    uint64_t bytes;
    uint64_t phys; /* contiguous, zeroed; 0 until allocated, and once freed */
    uint64_t freed; /* bytes given back so far, at the end of the run */
    unsigned maps;
    struct {
        char guest[32];
        bool writable;
    } map[MAX_MAPS];
    bool bad;
};

static struct region regions[MAX_REGIONS];
static unsigned region_count;

static struct region *region_named(const char *name)
{
    for (unsigned i = 0; i < region_count; i++)
        if (strcmp(regions[i].name, name) == 0)
            return &regions[i];
    if (region_count == MAX_REGIONS || strnlen(name, 16) >= 16)
        return NULL;
    struct region *r = &regions[region_count++];
    memcpy(r->name, name, strnlen(name, 15) + 1);
    return r;
}

/* "a:rw b:ro" (spaces or commas between entries). */
static const char *parse_map(struct region *r, const char *value)
{
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        if (r->maps == MAX_MAPS)
            return "names more than 8 guests";
        size_t n = 0;
        while (p[n] && p[n] != ':' && p[n] != ' ' && p[n] != ',')
            n++;
        if (p[n] != ':' || n == 0 || n >= sizeof(r->map[0].guest))
            return "map entries are GUEST:rw or GUEST:ro";
        memcpy(r->map[r->maps].guest, p, n);
        r->map[r->maps].guest[n] = '\0';
        p += n + 1;
        if (strncmp(p, "rw", 2) == 0)
            r->map[r->maps].writable = true;
        else if (strncmp(p, "ro", 2) != 0)
            return "map entries are GUEST:rw or GUEST:ro";
        p += 2;
        if (*p && *p != ' ' && *p != ',')
            return "map entries are GUEST:rw or GUEST:ro";
        r->maps++;
    }
    return NULL;
}

static const char *apply(void *arg, const char *section, const char *section_arg, const char *key,
                         const char *value)
{
    (void)arg;
    if (strcmp(section, "shm") != 0)
        return NULL;
    struct region *r = region_named(section_arg);
    if (!r)
        return "too many [shm] sections, or a name longer than 15 characters";
    if (strcmp(key, "size") == 0) {
        uint64_t n;
        if (!cfg_parse_u64(value, &n) || n < MIN_BYTES || n > MAX_BYTES)
            return "size must be between 4K and 64M";
        r->bytes = (n + PAGE - 1) & ~(PAGE - 1);
        return NULL;
    }
    if (strcmp(key, "map") == 0)
        return parse_map(r, value);
    return "not a setting of [shm]";
}

void shm_configure(const char *cfg, size_t len)
{
    struct cfg_error err;
    if (!cfg)
        return;
    if (cfg_parse(cfg, len, apply, NULL, &err) != 0)
        log_error("hv.cfg line %u: %s; [shm] settings after it are ignored", err.line, err.reason);
    for (unsigned i = 0; i < region_count; i++) {
        struct region *r = &regions[i];
        if (!r->bytes || !r->maps) {
            log_error("hv.cfg [shm %s]: needs a size and a map; region left out", r->name);
            r->bad = true;
            continue;
        }
        void *mem = kalloc_zeroed(r->bytes);
        if (!mem) {
            log_error("hv.cfg [shm %s]: no memory for %lu KiB; region left out", r->name,
                      (unsigned long)(r->bytes >> 10));
            r->bad = true;
            continue;
        }
        r->phys = virt_to_phys(mem);
        /* hv's own reference keeps the region alive whoever ends first. */
        for (uint64_t off = 0; off < r->bytes; off += PAGE)
            guest_frame_adopt(r->phys + off);
        log_info("shm %s: %lu KiB shared by %u guest(s)", r->name, (unsigned long)(r->bytes >> 10),
                 r->maps);
    }
}

/* Maps pages [first, first + n) of region r at va (its page `first`) for
 * g with leaf flags, hv's reference kept. */
static bool map_region(struct guest *g, const struct region *r, uint64_t va, uint64_t first,
                       uint64_t n, uint64_t flags)
{
    for (uint64_t off = first * PAGE; off < (first + n) * PAGE; off += PAGE) {
        uint64_t pa = r->phys + off;
        if (guest_frame_add_mapping(pa, flags) != 0)
            return false;
        if (!guest_frame_share(pa)) {
            guest_frame_drop_mapping(pa, flags);
            return false;
        }
        if (pt_map(&g->space, va + off, pa, PAGE, flags, 0) != PT_OK) {
            guest_frame_release(pa, NULL); /* never the last: hv holds one */
            guest_frame_drop_mapping(pa, flags);
            return false;
        }
    }
    return true;
}

bool shm_attach(struct guest *g, struct hv_start_info *si, uint64_t *pos, uint64_t budget,
                bool *done, char *why, size_t why_len)
{
    uint64_t skip = *pos;
    unsigned slot = 0;
    for (unsigned i = 0; i < region_count; i++) {
        const struct region *r = &regions[i];
        if (r->bad)
            continue;
        for (unsigned m = 0; m < r->maps; m++) {
            if (!guest_name_equal(r->map[m].guest, g->name))
                continue;
            if (slot == HV_MAX_SHM) {
                fmt_format(why, why_len, "more than %u shared regions name it", HV_MAX_SHM);
                return false;
            }
            uint64_t va = SHM_BASE + slot * SHM_STRIDE, pages = r->bytes / PAGE;
            /* What hv.cfg granted is also the most the mapping, and every
             * alias of it, may ever be: "ro" is never writable. */
            uint64_t flags = PTE_P | PTE_U | cpu_nx_mask() |
                             (r->map[m].writable ? PTE_W | PTE_SW_MAY_WRITE : 0);
            if (si) {
                struct hv_shm_info *e = &si->shm[slot];
                memcpy(e->name, r->name, sizeof(r->name));
                e->va = va;
                e->bytes = r->bytes;
                e->writable = r->map[m].writable;
            }
            slot++;
            if (si)
                continue;
            if (skip >= pages) {
                skip -= pages;
                continue;
            }
            if (!budget)
                return true;
            uint64_t n = pages - skip < budget ? pages - skip : budget;
            if (!map_region(g, r, va, skip, n, flags)) {
                fmt_format(why, why_len, "cannot map shared region %s", r->name);
                return false;
            }
            *pos += n;
            budget -= n;
            if (skip + n < pages)
                return true;
            skip = 0;
        }
    }
    *done = true;
    return true;
}

uint64_t shm_pages_held(void)
{
    uint64_t pages = 0;
    for (unsigned i = 0; i < region_count; i++)
        if (regions[i].phys)
            pages += (regions[i].bytes - regions[i].freed) / PAGE;
    return pages;
}

bool shm_free_some(uint64_t max_pages)
{
    for (unsigned i = 0; i < region_count; i++) {
        struct region *r = &regions[i];
        if (!r->phys)
            continue;
        /* Every guest is gone: hv's reference is the last one. */
        for (; r->freed < r->bytes && max_pages; r->freed += PAGE, max_pages--)
            if (!guest_frame_release(r->phys + r->freed, NULL))
                log_error("shm %s: page 0x%lx still referenced at the end", r->name,
                          (unsigned long)r->freed);
        if (r->freed < r->bytes)
            return false;
        r->phys = 0;
    }
    return true;
}
