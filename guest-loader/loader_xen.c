/* The loader's Xen branch (guest-loader/loader_xen.h). The same checks
 * as hv's own images where they apply (the image's hash and pin came
 * first, in start_one; hv.cfg's [guest FILE] section; a unique name; a free
 * allowance), then Xen's domain builder. A Xen guest gets no restart
 * policy yet and exactly one vCPU. Its default memory is its start-of-day
 * region plus a little (guest_params' default for an image of that span). */
#include "guest-loader/loader_xen.h"

#include "guest-loader/guest_params.h"
#include "guest-loader/loader_common.h"
#include "hv/console/log.h"
#include "hv/guest/guest.h"
#include "hv/sched/sched.h"
#include "hv/mm/mm.h"
#include "hv/xen/xen.h"
#include "include/hv/abi.h"
#include "vcpu/vcpu.h"

enum loader_xen_outcome loader_start_xen(const struct handoff_file *f, const uint8_t *file,
                                         const char *cfg, size_t cfg_len)
{
    static struct xen_image img; /* 1 KiB: off the boot stack; one image at a time */
    struct xen_layout l;
    struct guest_params p;
    char why[160];
    if (xen_image_check(file, f->size, HV_GUEST_IMAGE_MAX, &img, why, sizeof(why)) != 0) {
        log_error("image %s rejected: Xen PV image: %s", f->name, why);
        return LOADER_XEN_REJECTED;
    }
    log_info("image %s: Xen PV image (notes in %s): GUEST_OS \"%s\", LOADER \"%s\", "
             "XEN_VERSION \"%s\", image 0x%lx-0x%lx, entry 0x%lx, hypercall page 0x%lx",
             f->name, img.notes_in_sections ? "a note section" : "a note segment", img.guest_os,
             img.loader, img.xen_version, (unsigned long)img.kstart, (unsigned long)img.kend,
             (unsigned long)img.entry,
             (unsigned long)(img.has_hypercall_page ? img.hypercall_page : 0));
    uint64_t pages = xen_layout_settle(img.virt_base, img.kstart, img.kend, HV_GUEST_IMAGE_MAX, &l,
                                       why, sizeof(why));
    if (!pages || guest_params_resolve(f->name, pages * 4096, NULL, cfg, cfg_len, &p, why,
                                       sizeof(why)) != 0) {
        log_error("image %s rejected: Xen PV image: %s", f->name, why);
        return LOADER_XEN_REJECTED;
    }
    if (!p.enabled) {
        log_info("image %s: disabled in hv.cfg", f->name);
        return LOADER_XEN_DISABLED;
    }
    if (p.vcpus != 1) {
        log_error("image %s rejected: Xen PV image: %u vCPUs: Xen guests get one", f->name,
                  p.vcpus);
        return LOADER_XEN_REJECTED;
    }
    if (!loader_affinity_ok(f->name, p.cpus) || !loader_name_and_memory_ok(f, &p))
        return LOADER_XEN_REJECTED;
    struct guest *g = loader_create_guest(f, &p);
    if (!g)
        return LOADER_XEN_REJECTED;
    g->policy = p.policy;
    if (p.policy.on_exit == GUEST_ACTION_RESTART || p.policy.on_fault == GUEST_ACTION_RESTART) {
        /* A restart rebuilds from the kept image through hv's own loader. */
        log_warn("image %s: Xen PV guests are not restarted: restart becomes stop", f->name);
        if (g->policy.on_exit == GUEST_ACTION_RESTART)
            g->policy.on_exit = GUEST_ACTION_STOP;
        if (g->policy.on_fault == GUEST_ACTION_RESTART)
            g->policy.on_fault = GUEST_ACTION_STOP;
    }
    uint64_t heap_before = kmalloc_bytes_in_use();
    if (!xen_build(g, &img, file, why, sizeof(why))) {
        log_error("image %s rejected: Xen PV image: %s", f->name, why);
        guest_discard(g);
        return LOADER_XEN_REJECTED;
    }
    const struct xen_layout *xl = &g->xen->layout;
    log_info("guest %s: %s, Xen PV, %lu pages (%lu KiB allowance): P2M 0x%lx, start_info 0x%lx, "
             "page tables 0x%lx (%lu frames), stack top 0x%lx, mapped to 0x%lx, entry 0x%lx",
             g->name, f->name, (unsigned long)g->xen->nr_pages,
             (unsigned long)(p.memory_bytes >> 10), (unsigned long)xl->p2m,
             (unsigned long)xl->start_info, (unsigned long)xl->pt_base,
             (unsigned long)xl->nr_pt_frames, (unsigned long)xl->rsp, (unsigned long)xl->v_end,
             (unsigned long)img.entry);
    /* What its build took: from its allowance, and from hv's heap (its
     * vCPU only: the p2m and the Xen bookkeeping are charged frames). */
    log_debug("guest %s: built: %lu frames charged, hv's heap +%lu bytes", g->name,
              (unsigned long)g->mem.used, (unsigned long)(kmalloc_bytes_in_use() - heap_before));
    g->vcpus_alive = g->vcpu_count;
    sched_guest_init(g, p.weight, p.cpus);
    sched_add(g->vcpus[0]);
    return LOADER_XEN_STARTED;
}
