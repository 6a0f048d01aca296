#include "guest-loader/loader.h"

#include "guest-loader/elf_image.h"
#include "guest-loader/guest_params.h"
#include "guest-loader/image_check.h"
#include "guest-loader/image_policy.h"
#include "guest-loader/loader_common.h"
#include "guest-loader/loader_xen.h"
#include "guest-loader/policy_note.h"
#include "guest-loader/shm.h"
#include "hv/console/log.h"
#include "hv/cpu/features.h"
#include "hv/cpu/x86.h"
#include "hv/guest/guest.h"
#include "hv/guest/leak_check.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/sched/sched.h"
#include "hv/time/time.h"
#include "hv/xen/xen_elf.h"
#include "lib/elf64.h"
#include "lib/fmt.h"
#include "lib/sha256.h"
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

static bool load_segments(struct guest *g, const struct elf_image *img, const uint8_t *file,
                          char *why, size_t why_len)
{
    for (size_t i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        uint64_t start = page_down(s->vaddr), end = page_up(s->vaddr + s->memsz);
        /* Writable while hv fills it, then the ELF's permissions. */
        if (guest_map_zeroed(g, start, end - start, PTE_W | cpu_nx_mask()) != 0) {
            fmt_format(why, why_len, "not enough memory for segment %lu (0x%lx bytes at 0x%lx)",
                       (unsigned long)i, (unsigned long)(end - start), (unsigned long)start);
            return false;
        }
        if (write_guest(g, s->vaddr, file + s->offset, s->filesz) != 0) {
            fmt_format(why, why_len, "segment %lu could not be copied", (unsigned long)i);
            return false;
        }
    }
    return true;
}

static bool protect_segments(struct guest *g, const struct elf_image *img)
{
    for (size_t i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        uint64_t start = page_down(s->vaddr), end = page_up(s->vaddr + s->memsz);
        if (!set_final_flags(g, start, end, PTE_P | PTE_U | segment_flags(s->flags)))
            return false;
    }
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

static bool build(struct guest *g, const struct guest_params *p, const struct elf_image *img,
                  const uint8_t *file, size_t size, char *why, size_t why_len)
{
    /* A restart loaded them already, in steps (loader_rebuild_segments_step). */
    if (g->restart_stage != RESTART_BUILDING && !load_segments(g, img, file, why, why_len))
        return false;
    if (elf_image_relocate(img, file, size, relocate_write64, g, why, why_len) != 0)
        return false;
    if (!protect_segments(g, img)) {
        fmt_format(why, why_len, "could not set segment permissions");
        return false;
    }

    /* Stacks and the heap may become anything the per-frame W^X rule
     * allows, like fresh pages; the shared page never executable; the
     * start-info page never writable once filled (no maximum bits). */
    uint64_t any = PTE_W | cpu_nx_mask() | PTE_SW_MAX;
    uint64_t stack = page_up(p->stack_bytes);
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
    if (!shm_attach(g, &si, why, why_len))
        return false;
    write_guest(g, START_INFO_VA, (const uint8_t *)&si, sizeof(si));
    if (!set_final_flags(g, START_INFO_VA, START_INFO_VA + PAGE, PTE_P | PTE_U | cpu_nx_mask())) {
        fmt_format(why, why_len, "could not protect the start-info page");
        return false;
    }
    g->start_info_va = START_INFO_VA;

    for (uint32_t i = 0; i < p->vcpus; i++) {
        struct vcpu *v = vcpu_create(g, i, img->entry, STACKS_TOP - i * (stack + PAGE), START_INFO_VA);
        if (!v) {
            fmt_format(why, why_len, "no memory for vCPU %u", i);
            return false;
        }
        g->vcpus[i] = v;
        g->vcpu_count = i + 1;
    }
    return true;
}

static const char *cfg_text(const struct handoff *h, size_t *len)
{
    *len = h->config_phys ? h->config_size : 0;
    return h->config_phys ? phys_to_virt(h->config_phys) : NULL;
}

static void report_unknown_section(void *arg, const char *section_arg)
{
    (void)arg;
    log_warn("hv.cfg: [guest %s] names no file in \\images", section_arg);
}

static unsigned rejected;

static void count_table(void *arg, uint64_t table_phys, int level)
{
    (void)table_phys;
    (void)level;
    (*(uint64_t *)arg)++;
}

/* Page-table pages of the guest's own (the root and its lower half). */
static uint64_t count_table_pages(struct guest *g)
{
    uint64_t n = 0;
    pt_for_each_table(&g->space, 0, HV_GUEST_LOWER_HALF_END - 1, count_table, &n);
    return n;
}

bool loader_kept_range(const struct elf_image *img, uint64_t i, uint64_t *offset,
                       uint64_t *bytes)
{
    if (i < img->segment_count) {
        *offset = img->segments[i].offset;
        *bytes = img->segments[i].filesz;
        return true;
    }
    /* elf_image_check put the table inside the file: no wrap. */
    *offset = img->rela_offset;
    *bytes = img->rela_count * sizeof(Elf64_Rela);
    return i == img->segment_count;
}

/* A guest whose policy can restart it keeps what a restart rebuilds from:
 * the image (the firmware's copy, in loader-data memory hv never reuses),
 * its parse, the hash of what a restart reads of it, taken now once (the
 * bytes the policy's whole-file hash just passed), and its parameters. */
static bool keep_image(struct guest *g, const struct guest_params *p, const struct elf_image *img,
                       const uint8_t *file, uint64_t size)
{
    g->policy = p->policy;
    if (p->policy.on_exit != GUEST_ACTION_RESTART && p->policy.on_fault != GUEST_ACTION_RESTART)
        return true;
    g->kept = kmalloc(sizeof(*g->kept)); /* zeroed */
    if (!g->kept)
        return false;
    g->kept->file = file;
    g->kept->size = size;
    g->kept->params = *p;
    g->kept->img = *img;
    struct sha256 h;
    uint64_t offset, bytes;
    sha256_init(&h);
    for (uint64_t i = 0; loader_kept_range(img, i, &offset, &bytes); i++)
        sha256_update(&h, file + offset, bytes);
    sha256_final(&h, g->kept->sha256);
    return true;
}

/* Segment pages a restart loads per step: each is zeroed, mapped and
 * filled from the image, ~5 000 instructions as measured under -icount. */
#define LOAD_STEP_PAGES 2

bool loader_rebuild_begin(struct guest *g, char *why, size_t why_len)
{
    struct guest_kept_image *k = g->kept;
    g->vcpu_count = 0;
    g->shared = NULL;
    g->shared_pa = 0;
    g->start_info_va = 0;
    k->segment = 0;
    k->segment_done = 0;
    if (!guest_space_init(g, &g->space)) {
        fmt_format(why, why_len, "its allowance could not hold a root page table");
        return false;
    }
    return true;
}

bool loader_rebuild_segments_step(struct guest *g, bool *done, char *why, size_t why_len)
{
    struct guest_kept_image *k = g->kept;
    *done = k->segment >= k->img.segment_count;
    if (*done)
        return true;
    const struct elf_segment *s = &k->img.segments[k->segment];
    uint64_t start = page_down(s->vaddr), end = page_up(s->vaddr + s->memsz);
    uint64_t va = start + k->segment_done;
    uint64_t bytes = end - va < LOAD_STEP_PAGES * PAGE ? end - va : LOAD_STEP_PAGES * PAGE;
    /* Writable while hv fills it, then the ELF's permissions (build). */
    if (guest_map_zeroed(g, va, bytes, PTE_W | cpu_nx_mask()) != 0) {
        fmt_format(why, why_len, "not enough memory for segment %lu",
                   (unsigned long)k->segment);
        return false;
    }
    /* The file's bytes of this stretch: [va, va + bytes) within
     * [vaddr, vaddr + filesz); no two segments share a page. */
    uint64_t lo = va > s->vaddr ? va : s->vaddr;
    uint64_t hi = va + bytes < s->vaddr + s->filesz ? va + bytes : s->vaddr + s->filesz;
    if (lo < hi && write_guest(g, lo, k->file + s->offset + (lo - s->vaddr), hi - lo) != 0) {
        fmt_format(why, why_len, "segment %lu could not be copied", (unsigned long)k->segment);
        return false;
    }
    k->segment_done += bytes;
    if (va + bytes == end) {
        k->segment++;
        k->segment_done = 0;
    }
    *done = k->segment >= k->img.segment_count;
    return true;
}

bool loader_rebuild(struct guest *g, char *why, size_t why_len)
{
    const struct guest_kept_image *k = g->kept;
    return build(g, &k->params, &k->img, k->file, k->size, why, why_len);
}

static bool start_one(const struct handoff *h, const struct handoff_file *f)
{
    char why[160];
    struct elf_image img;
    const uint8_t *file = phys_to_virt(f->phys);
    size_t cfg_len;
    const char *cfg = cfg_text(h, &cfg_len);
    if (!image_check_allowed(f, file, cfg, cfg_len)) {
        rejected++;
        return false;
    }
    if (xen_image_detect(file, f->size)) { /* Xen's notes choose the personality */
        enum loader_xen_outcome out = loader_start_xen(f, file, cfg, cfg_len);
        rejected += out == LOADER_XEN_REJECTED;
        return out == LOADER_XEN_STARTED;
    }
    if (elf_image_check(file, f->size, &img, why, sizeof(why)) != 0) {
        rejected++;
        log_error("image %s rejected: %s", f->name, why);
        return false;
    }
    struct guest_params p;
    if (guest_params_resolve(f->name, img.highest - img.lowest, img.have_note ? &img.note : NULL,
                             cfg, cfg_len, &p, why, sizeof(why)) != 0) {
        rejected++;
        log_error("image %s rejected: %s", f->name, why);
        return false;
    }
    if (!loader_apply_policy_note(f->name, &img, &p)) {
        rejected++;
        return false;
    }
    if (!p.enabled) {
        log_info("image %s: disabled in hv.cfg", f->name);
        return false;
    }
    if (!loader_affinity_ok(f->name, p.cpus)) {
        rejected++;
        return false;
    }
    if (p.ignored_note_name[0] != '\0')
        log_info("image %s: its note asks for the name '%s', ignored: the name is %s (from %s)",
                 f->name, p.ignored_note_name, p.name,
                 p.name_from_cfg ? "hv.cfg" : "the file name");
    if (!loader_name_and_memory_ok(f, &p)) {
        rejected++;
        return false;
    }
    uint64_t structures_before = kmalloc_bytes_in_use();
    struct guest *g = loader_create_guest(f, &p);
    if (!g) {
        rejected++;
        return false;
    }
    if (!keep_image(g, &p, &img, file, f->size)) {
        rejected++;
        log_error("image %s rejected: no memory to keep its image for restarts", f->name);
        guest_discard(g);
        return false;
    }
    if (!build(g, &p, &img, file, f->size, why, sizeof(why))) {
        rejected++;
        log_error("image %s rejected: %s", f->name, why);
        guest_discard(g);
        return false;
    }
    g->vcpus_alive = g->vcpu_count;
    if (g->kept)
        g->kept->built_frames = g->mem.used; /* each life must start from as many */
    sched_guest_init(g, p.weight, p.cpus);
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        sched_add(g->vcpus[i]);
    log_info("guest %s: %s, %u vCPU(s), %lu KiB, entry 0x%lx", g->name, f->name, g->vcpu_count,
             (unsigned long)(p.memory_bytes >> 10), (unsigned long)img.entry);
    uint64_t tables = count_table_pages(g);
    log_debug("guest %s: hv overhead %lu bytes: %lu page-table pages, %lu bytes of structures",
              g->name, (unsigned long)(tables * PAGE + kmalloc_bytes_in_use() - structures_before),
              (unsigned long)tables, (unsigned long)(kmalloc_bytes_in_use() - structures_before));
    return true;
}

unsigned loader_rejected_images(void)
{
    return rejected;
}

unsigned loader_start_guests(const struct handoff *h)
{
    unsigned started = 0;
    mm_balance_mark();
    leak_check_mark();
    size_t shm_len;
    const char *shm_cfg = cfg_text(h, &shm_len);
    shm_configure(shm_cfg, shm_len);
    if (image_policy_built_in.active)
        log_info("image policy: %lu hash(es) built into hv; images not listed are refused",
                 (unsigned long)image_policy_built_in.count);
    const struct handoff_file *files = h->file_count ? phys_to_virt(h->files_phys) : NULL;
    for (uint32_t i = 0; i < h->file_count; i++) {
        if (files[i].status != HANDOFF_FILE_OK)
            rejected++;
        else if (start_one(h, &files[i]))
            started++;
    }
    size_t cfg_len;
    const char *cfg = cfg_text(h, &cfg_len);
    if (cfg && h->file_count) {
        /* As many names as files: the folder's size is up to the user. */
        size_t bytes = (size_t)h->file_count * sizeof(const char *);
        const char **names = kmalloc(bytes);
        if (names) {
            for (uint32_t i = 0; i < h->file_count; i++)
                names[i] = files[i].name;
            guest_params_unknown_sections(cfg, cfg_len, names, h->file_count,
                                          report_unknown_section, NULL);
            kfree(names, bytes);
        } else {
            log_warn("hv.cfg: no memory to check its [guest] sections");
        }
    } else if (cfg) {
        guest_params_unknown_sections(cfg, cfg_len, NULL, 0, report_unknown_section, NULL);
    }
    return started;
}
