/* Recognised Xen PV images, until the domain builder (hv/xen/xen_build.c,
 * M1 of docs/plans/xen-personality.md) exists: validated, their
 * start-of-day layout computed, then refused with the reason. */
#include "hv/xen/xen_load.h"

#include "hv/console/log.h"
#include "hv/xen/xen_elf.h"
#include "hv/xen/xen_layout.h"
#include "include/hv/abi.h"

bool xen_start_one(const char *name, const uint8_t *file, size_t size)
{
    static struct xen_image img; /* 1 KiB: off the boot stack; one image at a time */
    char why[160];
    if (xen_image_check(file, size, HV_GUEST_IMAGE_MAX, &img, why, sizeof(why)) != 0) {
        log_error("image %s rejected: Xen PV image: %s", name, why);
        return false;
    }
    log_info("image %s: Xen PV image (notes in %s): GUEST_OS \"%s\", LOADER \"%s\", "
             "XEN_VERSION \"%s\", image 0x%lx-0x%lx, entry 0x%lx, hypercall page 0x%lx",
             name, img.notes_in_sections ? "a note section" : "a note segment", img.guest_os,
             img.loader, img.xen_version, (unsigned long)img.kstart, (unsigned long)img.kend,
             (unsigned long)img.entry, (unsigned long)(img.has_hypercall_page ? img.hypercall_page : 0));
    struct xen_layout l;
    if (xen_layout_compute(img.virt_base, img.kstart, img.kend, XEN_DEFAULT_MEMORY / 4096,
                           HV_GUEST_IMAGE_MAX, &l, why, sizeof(why)) != 0) {
        log_error("image %s rejected: Xen PV image: %s", name, why);
        return false;
    }
    log_info("image %s: start of day with %lu MiB: P2M 0x%lx, start_info 0x%lx, page tables 0x%lx "
             "(%lu frames), stack top 0x%lx, mapped to 0x%lx",
             name, (unsigned long)(XEN_DEFAULT_MEMORY >> 20), (unsigned long)l.p2m,
             (unsigned long)l.start_info, (unsigned long)l.pt_base, (unsigned long)l.nr_pt_frames,
             (unsigned long)l.rsp, (unsigned long)l.v_end);
    log_error("image %s rejected: Xen PV image: personality not built yet", name);
    return false;
}
