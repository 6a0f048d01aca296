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
#include "hv/guest/restart.h"
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
    sha256_init(&g->kept->check); /* range and checked: 0 (kmalloc zeroes) */
    while (restart_hash_step(g->kept, g->kept->sha256) != RESTART_HASH_DONE)
        ;
    return true;
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
    if (!loader_build(g, &p, &img, file, f->size, why, sizeof(why))) {
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
