/* Xen PV images: is a guest file one (xen_image_detect), and if so, is it
 * one hv can start and where does it go (xen_image_check). An image is a
 * Xen PV image when it carries an ELF note of owner "Xen"
 * (hv/xen/xen_abi.h, elfnote.h types). As Xen's loader does, the notes
 * are looked for in PT_NOTE segments first and, only when those hold no
 * Xen note, in SHT_NOTE sections (Mini-OS has a .note section and no note
 * segment). Both functions trust nothing in the file: every offset and size
 * is checked, the walks are bounded, and a check that fails says in one
 * sentence which note or header and why.
 *
 * Pure code: no allocation, no global state, freestanding. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XEN_IMAGE_MAX_SEGMENTS 16
#define XEN_IMAGE_MAX_SECTIONS 512 /* more section headers than this is refused */
#define XEN_IMAGE_MAX_NOTES 256    /* notes walked per file, all places together */

struct xen_image_segment {
    uint64_t vaddr;  /* where it goes: p_paddr + the virtual offset, as Xen loads */
    uint64_t memsz;  /* > 0 */
    uint64_t offset; /* file offset of its first filesz bytes */
    uint64_t filesz; /* <= memsz; the rest zero */
    uint32_t flags;  /* PF_*: any combination, RWX included (the guest's view) */
};

struct xen_image {
    bool notes_in_sections;  /* found in SHT_NOTE sections, not in a PT_NOTE */
    uint64_t virt_base;      /* XEN_ELFNOTE_VIRT_BASE, else 0 */
    uint64_t paddr_offset;   /* XEN_ELFNOTE_PADDR_OFFSET, else virt_base */
    uint64_t entry;          /* XEN_ELFNOTE_ENTRY, else e_entry */
    bool has_hypercall_page;
    uint64_t hypercall_page; /* XEN_ELFNOTE_HYPERCALL_PAGE: a page-aligned va in the image */
    uint64_t kstart, kend;   /* page-aligned virtual extent of the loaded image */
    size_t segment_count;
    struct xen_image_segment segments[XEN_IMAGE_MAX_SEGMENTS]; /* sorted by vaddr */
    /* The string notes, for the log (empty when absent; printable ASCII). */
    char guest_os[32], guest_version[32], loader[16], xen_version[16], features[128];
};

/* True when file[0, size) is an ELF64 file whose notes (where Xen's loader
 * looks, as above) include one of owner "Xen". Reads nothing outside the
 * file; a malformed note ends the walk of its segment or section. */
bool xen_image_detect(const void *file, size_t size);

/* Validates a file xen_image_detect recognised and describes it in *out.
 * 0 if hv can place it, negative if not, with `why` one sentence naming
 * the note, header or segment and the reason (NUL-terminated when why_len
 * > 0; "" on success). `image_max` is the exclusive upper bound of guest
 * virtual addresses the image may use (it must also start at or above 0:
 * Xen PV images may be linked at 0). */
int xen_image_check(const void *file, size_t size, uint64_t image_max, struct xen_image *out,
                    char *why, size_t why_len);
