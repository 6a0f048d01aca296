/* Building a guest from its image as the loader parsed it: in one go at
 * load (guest-loader/loader.c), and for a restart (hv/guest/restart.c) in
 * bounded steps, each a stretch with interrupts off: the segments a few
 * pages a step, then the build's parts (relocations, permissions, the
 * fixed pages, the [shm] pages, the vCPUs) a bounded piece a step, the
 * stacks and heap only noted for the restart's MAPPING steps. The same
 * code in the same order either way. */
#include "guest-loader/elf_internal.h"
#include "guest-loader/loader.h"
#include "guest-loader/loader_common.h"
#include "guest-loader/shm.h"
#include "hv/cpu/features.h"
#include "hv/guest/guest.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/time/time.h"
#include "lib/elf64.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

#define PAGE 4096ULL
/* Above the image area: the start-info page, then the vCPU stacks going
 * down, each above an unmapped guard page. The top of the lower half stays
 * unmapped (see the sysret note in vcpu/syscall.c). */
#define START_INFO_VA 0x00007ffffffd0000ULL
#define SHARED_VA 0x00007ffffffd1000ULL
#define STACKS_TOP 0x00007ffffffc0000ULL

static uint64_t page_down(uint64_t v)
{
    return v & ~(PAGE - 1);
}

static uint64_t page_up(uint64_t v)
{
    return (v + PAGE - 1) & ~(PAGE - 1);
}

/* A segment's permissions are also the most its pages may ever become:
 * code is never writable, data never executable. */
static uint64_t segment_flags(uint32_t pflags)
{
    uint64_t f = 0;
    if (pflags & PF_W)
        f |= PTE_W | PTE_SW_MAY_WRITE;
    if (pflags & PF_X)
        f |= PTE_SW_EXEC | PTE_SW_MAY_EXEC;
    else
        f |= cpu_nx_mask();
    return f;
}

/* Gives mapped pages their final permissions, keeping the per-frame W^X
 * counts right (they were mapped writable to be filled). */
static bool set_final_flags(struct guest *g, uint64_t start, uint64_t end, uint64_t flags)
{
    for (uint64_t va = start; va < end; va += PAGE) {
        uint64_t pa, old;
        if (!pt_lookup(&g->space, va, &pa, &old))
            return false;
        guest_frame_drop_mapping(pa, old);
        if (guest_frame_add_mapping(pa, flags) != 0) {
            guest_frame_add_mapping(pa, old);
            return false;
        }
    }
    return pt_protect(&g->space, start, end - start, flags) == PT_OK;
}

/* Writes through hv's direct map into pages already mapped for the guest. */
static int write_guest(struct guest *g, uint64_t va, const uint8_t *src, uint64_t n)
{
    while (n) {
        uint64_t chunk = PAGE - (va & (PAGE - 1));
        if (chunk > n)
            chunk = n;
        uint8_t *dst = guest_page_ptr(g, va);
        if (!dst)
            return -1;
        copy_bytes(dst, src, chunk); /* a page at a time: 512 instructions, not ~2,000 */
        va += chunk;
        src += chunk;
        n -= chunk;
    }
    return 0;
}

static int relocate_write64(void *arg, uint64_t va, uint64_t value)
{
    uint8_t bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
    return write_guest(arg, va, bytes, 8);
}

/* Maps [va, va + bytes) of segment s zeroed, writable while hv fills it
 * (the ELF's permissions come later), and copies the file's bytes of it:
 * those in [vaddr, vaddr + filesz) (no two segments share a page). */
static bool load_pages(struct guest *g, const struct elf_segment *s, const uint8_t *file,
                       uint64_t va, uint64_t bytes)
{
    if (guest_map_zeroed(g, va, bytes, PTE_W | cpu_nx_mask()) != 0)
        return false;
    uint64_t lo = va > s->vaddr ? va : s->vaddr;
    uint64_t hi = va + bytes < s->vaddr + s->filesz ? va + bytes : s->vaddr + s->filesz;
    return lo >= hi || write_guest(g, lo, file + s->offset + (lo - s->vaddr), hi - lo) == 0;
}

/* Loads (load_pages) or gives their final permissions to at most `budget`
 * of the segments' pages from page *pos on (counted over all segments),
 * advancing *pos; *done once none is left. */
static bool segment_pages(struct guest *g, const struct elf_image *img, const uint8_t *file,
                          bool protect, uint64_t *pos, uint64_t budget, bool *done, char *why,
                          size_t why_len)
{
    uint64_t skip = *pos;
    for (size_t i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        uint64_t start = page_down(s->vaddr);
        uint64_t pages = (page_up(s->vaddr + s->memsz) - start) / PAGE;
        if (skip >= pages) {
            skip -= pages;
            continue;
        }
        if (!budget)
            return true;
        uint64_t n = pages - skip < budget ? pages - skip : budget;
        uint64_t va = start + skip * PAGE;
        if (protect ? !set_final_flags(g, va, va + n * PAGE,
                                       PTE_P | PTE_U | segment_flags(s->flags))
                    : !load_pages(g, s, file, va, n * PAGE)) {
            fmt_format(why, why_len, protect ? "could not set the permissions of segment %lu"
                                             : "not enough memory for segment %lu",
                       (unsigned long)i);
            return false;
        }
        *pos += n;
        budget -= n;
        if (skip + n < pages)
            return true;
        skip = 0;
    }
    *done = true;
    return true;
}

/* Fresh zeroed pages (the stacks, the heap): mapped now at load; for a
 * restart, noted and mapped later a few pages per step
 * (hv/guest/restart.c), since one stretch of hundreds of pages would keep
 * interrupts off for the whole of it. */
static int map_fresh(struct guest *g, uint64_t va, uint64_t bytes, uint64_t flags)
{
    if (g->restart_stage != RESTART_BUILDING)
        return guest_map_zeroed(g, va, bytes, flags);
    struct guest_kept_image *k = g->kept;
    uint64_t pages = bytes / PAGE;
    if (k->later_count == GUEST_KEPT_LATER_MAX || pages > guest_memory_left(g) ||
        k->later_pages > guest_memory_left(g) - pages)
        return -HV_ENOMEM;
    k->later[k->later_count++] = (struct guest_later_map){va, bytes, flags};
    k->later_pages += pages;
    return 0;
}

/* The stacks (noted for a restart), the start-info and shared pages. */
static bool build_pages(struct guest *g, const struct guest_params *p, uint64_t stack,
                        char *why, size_t why_len)
{
    /* Stacks and the heap may become anything the per-frame W^X rule
     * allows, like fresh pages; the shared page never executable; the
     * start-info page never writable once filled (no maximum bits). */
    uint64_t any = PTE_W | cpu_nx_mask() | PTE_SW_MAX;
    for (uint32_t i = 0; i < p->vcpus; i++) {
        uint64_t top = STACKS_TOP - i * (stack + PAGE);
        if (map_fresh(g, top - stack, stack, any) != 0) {
            fmt_format(why, why_len, "not enough memory for the stack of vCPU %u", i);
            return false;
        }
    }
    if (guest_map_zeroed(g, START_INFO_VA, PAGE, PTE_W | cpu_nx_mask()) != 0 ||
        guest_map_zeroed(g, SHARED_VA, PAGE, PTE_W | cpu_nx_mask() | PTE_SW_MAY_WRITE) != 0) {
        fmt_format(why, why_len, "not enough memory for the start-info and shared pages");
        return false;
    }
    /* hv keeps its own reference to the shared page: it writes there, and
     * the guest unmapping it must not free it under hv. */
    uint64_t shared_pa, shared_flags;
    pt_lookup(&g->space, SHARED_VA, &shared_pa, &shared_flags);
    guest_frame_share(shared_pa);
    g->shared_va = SHARED_VA;
    g->shared_pa = shared_pa;
    g->shared = phys_to_virt(shared_pa);
    time_fill_info(&g->shared->time);
    return true;
}

/* The heap (noted for a restart), the start info written with its [shm]
 * slots (mapped by the next part, build_shm). */
static bool build_heap(struct guest *g, const struct guest_params *p,
                       const struct elf_image *img, uint64_t stack, char *why, size_t why_len)
{
    uint64_t any = PTE_W | cpu_nx_mask() | PTE_SW_MAX;
    /* Half of what the allowance leaves becomes the heap, above the image
     * with a guard page between them; the other half stays unmapped for the
     * guest's memory operations (HV_CALL_MEM_MAP of fresh pages). */
    uint64_t used = g->mem.used * PAGE; /* page tables included */
    uint64_t heap_start = img->highest + PAGE;
    uint64_t heap = used < p->memory_bytes ? page_down((p->memory_bytes - used) / 2) : 0;
    if (heap > HV_GUEST_IMAGE_MAX - heap_start)
        heap = page_down(HV_GUEST_IMAGE_MAX - heap_start);
    /* A restart gets the heap its first life got (the page tables of its
     * stacks, mapped later, are not counted in `used` yet). */
    if (g->restart_stage == RESTART_BUILDING)
        heap = g->kept->heap_bytes;
    else if (g->kept)
        g->kept->heap_bytes = heap;
    if (heap && map_fresh(g, heap_start, heap, any) != 0) {
        fmt_format(why, why_len, "not enough memory for a 0x%lx-byte heap", (unsigned long)heap);
        return false;
    }

    struct hv_start_info si;
    memset(&si, 0, sizeof(si));
    si.magic = HV_START_INFO_MAGIC;
    si.abi_version = HV_ABI_VERSION;
    si.vcpu_count = p->vcpus;
    memcpy(si.name, g->name, sizeof(si.name));
    si.guest_id = g->id;
    si.restarts = g->restarts;
    si.memory_bytes = p->memory_bytes;
    si.heap_start = heap ? heap_start : 0;
    si.heap_bytes = heap;
    si.stack_bytes = stack;
    si.image_start = img->lowest;
    si.image_end = img->highest;
    si.shared_va = SHARED_VA;
    uint64_t pos = 0;
    bool done;
    if (!shm_attach(g, &si, &pos, 0, &done, why, why_len))
        return false;
    write_guest(g, START_INFO_VA, (const uint8_t *)&si, sizeof(si));
    return true;
}

/* The [shm] regions' pages (hv.cfg's, up to 4 x 64 MiB: a bounded piece a
 * step), then the start info made read-only. */
static bool build_shm(struct guest *g, uint64_t *pos, uint64_t budget, bool *done, char *why,
                      size_t why_len)
{
    if (!shm_attach(g, NULL, pos, budget, done, why, why_len))
        return false;
    if (!*done)
        return true;
    if (!set_final_flags(g, START_INFO_VA, START_INFO_VA + PAGE, PTE_P | PTE_U | cpu_nx_mask())) {
        fmt_format(why, why_len, "could not protect the start-info page");
        return false;
    }
    g->start_info_va = START_INFO_VA;
    return true;
}

/* The build's parts, in order. */
enum {
    PART_LOAD, PART_RELOCATE, PART_PROTECT, PART_PAGES, PART_HEAP, PART_SHM, PART_VCPUS, PART_DONE
};

/* The most a restart's step does of each part (segment pages,
 * relocations, segment pages, -, -, [shm] pages, vCPUs), so that no step
 * is a long stretch with interrupts off (hv_irq_off_max's 8,000 instructions,
 * docs/benchmarks.md; rs-fault's steps under -icount: a page loaded
 * ~3,800, 6 pages' permissions ~4,000, the fixed pages ~4,600, the heap
 * and start info ~1,700, a vCPU ~1,200). */
static const uint8_t step_budget[PART_DONE] = {1, 16, 6, 1, 1, 8, 1};

/* A piece of at most `budget` of the part *part is at (*pos: how far it
 * is), moving to the next part once it is done. */
static bool build_piece(struct guest *g, const struct guest_params *p,
                        const struct elf_image *img, const uint8_t *file, size_t size,
                        uint32_t *part, uint64_t *pos, uint64_t budget, char *why,
                        size_t why_len)
{
    uint64_t stack = page_up(p->stack_bytes);
    bool done = false;
    if (*part == PART_LOAD || *part == PART_PROTECT) {
        if (!segment_pages(g, img, file, *part == PART_PROTECT, pos, budget, &done, why,
                           why_len))
            return false;
    } else if (*part == PART_RELOCATE) {
        uint64_t n = img->rela_count - *pos < budget ? img->rela_count - *pos : budget;
        struct elf_file f = {.data = file, .size = size, .why = why, .why_len = why_len};
        if (elf_walk_relocations(img, &f, *pos, n, relocate_write64, g) != 0)
            return false;
        *pos += n;
        done = *pos == img->rela_count;
    } else if (*part == PART_PAGES) {
        if (!build_pages(g, p, stack, why, why_len))
            return false;
        done = true;
    } else if (*part == PART_HEAP) {
        if (!build_heap(g, p, img, stack, why, why_len))
            return false;
        done = true;
    } else if (*part == PART_SHM) {
        if (!build_shm(g, pos, budget, &done, why, why_len))
            return false;
    } else {
        for (; budget && *pos < p->vcpus; budget--, ++*pos) {
            uint32_t i = (uint32_t)*pos;
            struct vcpu *v = vcpu_create(g, i, img->entry, STACKS_TOP - i * (stack + PAGE),
                                         START_INFO_VA);
            if (!v) {
                fmt_format(why, why_len, "no memory for vCPU %u", i);
                return false;
            }
            g->vcpus[i] = v;
            g->vcpu_count = i + 1;
        }
        done = *pos == p->vcpus;
    }
    if (done)
        ++*part, *pos = 0;
    return true;
}

bool loader_build(struct guest *g, const struct guest_params *p, const struct elf_image *img,
                  const uint8_t *file, size_t size, char *why, size_t why_len)
{
    uint32_t part = PART_LOAD;
    uint64_t pos = 0;
    while (part != PART_DONE)
        if (!build_piece(g, p, img, file, size, &part, &pos, UINT64_MAX, why, why_len))
            return false;
    return true;
}

bool loader_rebuild_begin(struct guest *g, char *why, size_t why_len)
{
    struct guest_kept_image *k = g->kept;
    g->vcpu_count = 0;
    g->shared = NULL;
    g->shared_pa = 0;
    g->start_info_va = 0;
    k->later_count = k->later_next = 0;
    k->later_pages = k->later_done = 0;
    k->build_part = PART_LOAD;
    k->build_pos = 0;
    if (!guest_space_init(g, &g->space)) {
        fmt_format(why, why_len, "its allowance could not hold a root page table");
        return false;
    }
    return true;
}

bool loader_rebuild_step(struct guest *g, bool *done, char *why, size_t why_len)
{
    struct guest_kept_image *k = g->kept;
    if (k->build_part >= PART_DONE) { /* built: no piece is left to make again */
        *done = true;
        return true;
    }
    uint32_t part = k->build_part;
    bool ok = build_piece(g, &k->params, &k->img, k->file, k->size, &k->build_part,
                          &k->build_pos, step_budget[part], why, why_len);
    *done = k->build_part == PART_DONE;
    return ok;
}

