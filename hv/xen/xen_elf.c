/* Xen PV image detection and validation (hv/xen/xen_elf.h). The ELF header
 * the file-access helpers and the walk over notes are the native
 * validator's (guest-loader/elf_header.c, elf_file.c, elf_note_walk.c);
 * which notes are read, where, and the segment rules
 * are Xen's: notes of owner "Xen" in PT_NOTE segments or, when those hold
 * none, in SHT_NOTE sections; segments placed by p_paddr plus the virtual
 * offset (VIRT_BASE - PADDR_OFFSET); RWX segments, an image at address 0
 * and segments sharing a page are all allowed, as Xen's builder allows them
 * (hv keeps W^X on the real mappings it makes, not on the guest's view). */
#include "hv/xen/xen_elf.h"

#include "guest-loader/elf_internal.h"
#include "hv/xen/xen_abi.h"
#include "lib/string.h"

#define SHT_NOTE 7
#define PAGE 4096ULL
#define MAX_IMAGE_SPAN (1ULL << 30)

struct walk {
    const struct elf_file *f;
    unsigned budget;   /* notes left to walk (XEN_IMAGE_MAX_NOTES per file) */
    unsigned xen_notes;
    struct xen_image *out; /* NULL while detecting: reject nothing, stop quietly */
    uint32_t seen;         /* 1 << type of each note taken (types below 32) */
};

/* The notes hv reads: a number (1, 2, 4 or 8 bytes, little-endian, as
 * Xen's libelf reads it) or a string of at most `len` bytes kept for the
 * log; `off` is where it goes in struct xen_image. Xen ignores the notes it
 * does not use; so does hv. */
#define NUMBER(type, field) {type, 0, offsetof(struct xen_image, field)}
#define STRING(type, field)                                                                    \
    {type, sizeof(((struct xen_image *)0)->field), offsetof(struct xen_image, field)}
static const struct {
    uint8_t type, len;
    uint16_t off;
} note_uses[] = {
    NUMBER(XEN_ELFNOTE_ENTRY, entry),
    NUMBER(XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page),
    NUMBER(XEN_ELFNOTE_VIRT_BASE, virt_base),
    NUMBER(XEN_ELFNOTE_PADDR_OFFSET, paddr_offset),
    NUMBER(XEN_ELFNOTE_INIT_P2M, entry), /* refused once read */
    STRING(XEN_ELFNOTE_XEN_VERSION, xen_version),
    STRING(XEN_ELFNOTE_GUEST_OS, guest_os),
    STRING(XEN_ELFNOTE_GUEST_VERSION, guest_version),
    STRING(XEN_ELFNOTE_LOADER, loader),
    STRING(XEN_ELFNOTE_FEATURES, features),
};
/* Their names after "XEN_ELFNOTE_", in the table's order. */
static const char note_names[] = "ENTRY\0HYPERCALL_PAGE\0VIRT_BASE\0PADDR_OFFSET\0INIT_P2M\0"
                                 "XEN_VERSION\0GUEST_OS\0GUEST_VERSION\0LOADER\0FEATURES";
_Static_assert(XEN_ELFNOTE_INIT_P2M < 32, "seen has a bit per note type");

static int take_value(struct walk *w, unsigned use, const struct elf_note *n)
{
    const unsigned char *d = w->f->data + n->desc_off;
    unsigned char *dst = (unsigned char *)w->out + note_uses[use].off;
    uint32_t size = n->descsz, len = 0;
    const char *name = note_names;
    for (unsigned i = 0; i < use; i++)
        name += strlen(name) + 1;
    if (note_uses[use].len == 0) {
        if (size != 1 && size != 2 && size != 4 && size != 8)
            return elf_reject(w->f, "XEN_ELFNOTE_%s has a %u-byte descriptor; a number is 1, 2, 4 "
                                    "or 8 bytes", name, size);
        uint64_t v = 0;
        for (uint32_t i = 0; i < size; i++)
            v |= (uint64_t)d[i] << (8 * i);
        if (n->type == XEN_ELFNOTE_INIT_P2M)
            return elf_reject(w->f, "XEN_ELFNOTE_INIT_P2M 0x%lx: hv places the P2M list itself",
                              (unsigned long)v);
        memcpy(dst, &v, sizeof(v));
        return 0;
    }
    /* A string ends with a NUL inside its descriptor and is printable
     * ASCII; the field gets as much as fits (it is only logged). */
    while (len < size && d[len] != 0) {
        if (d[len] < 0x20 || d[len] > 0x7e)
            return elf_reject(w->f, "XEN_ELFNOTE_%s has the byte 0x%02x at position %u; its string "
                                    "must be printable ASCII", name, d[len], len);
        len++;
    }
    if (len == size)
        return elf_reject(w->f, "XEN_ELFNOTE_%s's string is not NUL-terminated within its %u-byte "
                                "descriptor", name, size);
    if (len > note_uses[use].len - 1u)
        len = note_uses[use].len - 1u;
    memcpy(dst, d, len);
    dst[len] = 0;
    return 0;
}

static int take_note(void *arg, const struct elf_note *n)
{
    struct walk *w = arg;
    if (w->budget == 0)
        return elf_reject(w->f, "more than %u notes; no image needs so many", XEN_IMAGE_MAX_NOTES);
    w->budget--;
    if (!elf_note_owner_is(w->f, n, XEN_NOTE_OWNER, 4))
        return 0;
    w->xen_notes++;
    if (!w->out)
        return 0;
    for (unsigned i = 0; i < sizeof(note_uses) / sizeof(note_uses[0]); i++)
        if (note_uses[i].type == n->type) {
            w->seen |= 1u << n->type;
            return take_value(w, i, n);
        }
    return 0;
}

/* Detecting, a malformed note or region ends the walk of that region
 * (what was seen so far counts); checking, it is the reason. */
static int walk_region(struct walk *w, const struct elf_note_region *r)
{
    int rc = elf_walk_notes(w->f, r, take_note, w);
    return w->out ? rc : 0;
}

static int walk_segments(struct walk *w, const struct elf_check *c)
{
    for (unsigned i = 0; i < c->eh.e_phnum; i++) {
        Elf64_Phdr ph;
        elf_phdr(c, i, &ph);
        if (ph.p_type != PT_NOTE)
            continue;
        struct elf_note_region r = {ph.p_offset, ph.p_filesz, ph.p_align, "program header", i};
        int rc = walk_region(w, &r);
        if (rc)
            return rc;
    }
    return 0;
}

static int walk_sections(struct walk *w, const struct elf_check *c)
{
    const struct elf_file *f = w->f;
    const Elf64_Ehdr *eh = &c->eh;
    if (eh->e_shoff == 0 || eh->e_shnum == 0)
        return 0; /* no section headers (stripped of them): nothing to look at */
    if (eh->e_shentsize != sizeof(Elf64_Shdr))
        return elf_reject(f, "section headers of %u bytes (e_shentsize); ELF64's are %zu",
                          eh->e_shentsize, sizeof(Elf64_Shdr));
    if (eh->e_shnum > XEN_IMAGE_MAX_SECTIONS)
        return elf_reject(f, "%u section headers; at most %u are read", eh->e_shnum,
                          XEN_IMAGE_MAX_SECTIONS);
    if (!elf_in_file(f, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
        return elf_reject(f, "the section header table (0x%lx, %u entries) runs past the end of "
                             "the file (0x%zx bytes)", (unsigned long)eh->e_shoff, eh->e_shnum,
                          f->size);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        uint64_t at = eh->e_shoff + (uint64_t)i * sizeof(Elf64_Shdr);
        /* The type first: every native image comes through here, and most
         * of its sections are not notes (boot time, make bench). */
        if (elf_read32(f, at + offsetof(Elf64_Shdr, sh_type)) != SHT_NOTE)
            continue;
        Elf64_Shdr sh;
        elf_copy(f, at, &sh, sizeof(sh));
        struct elf_note_region r = {sh.sh_offset, sh.sh_size, sh.sh_addralign, "section", i};
        int rc = walk_region(w, &r);
        if (rc)
            return rc;
    }
    return 0;
}

/* Xen's order: note segments; only if they hold no Xen note, sections.
 * Detecting, a reason is written nowhere (no `why`) and the result is
 * ignored: only the count of Xen notes matters. */
static int find_notes(struct walk *w, const struct elf_check *c)
{
    int rc = walk_segments(w, c);
    if (rc || w->xen_notes)
        return rc;
    if (w->out)
        w->out->notes_in_sections = true;
    return walk_sections(w, c);
}

bool xen_image_detect(const void *file, size_t size)
{
    struct elf_check c;
    memset(&c, 0, sizeof(c));
    c.f.data = file;
    c.f.size = size;
    if (elf_check_header(&c) != 0)
        return false;
    struct walk w = {&c.f, XEN_IMAGE_MAX_NOTES, 0, NULL, 0};
    find_notes(&w, &c);
    return w.xen_notes > 0;
}

static bool starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

static int take_segments(struct elf_check *c, struct xen_image *o, uint64_t virt_offset)
{
    const struct elf_file *f = &c->f;
    for (unsigned i = 0; i < c->eh.e_phnum; i++) {
        Elf64_Phdr ph;
        elf_phdr(c, i, &ph);
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz)
            return elf_reject(f, "program header %u: file size 0x%lx is larger than its memory size "
                                 "0x%lx", i, (unsigned long)ph.p_filesz, (unsigned long)ph.p_memsz);
        int rc = elf_check_file_range(c, i, NULL, &ph);
        if (rc)
            return rc;
        uint64_t va = ph.p_paddr + virt_offset; /* modulo 2^64, as Xen computes it */
        if (va > UINT64_MAX - ph.p_memsz)
            return elf_reject(f, "program header %u: address 0x%lx+0x%lx wraps around",
                              i, (unsigned long)va, (unsigned long)ph.p_memsz);
        if (o->segment_count == XEN_IMAGE_MAX_SEGMENTS)
            return elf_reject(f, "more than %u loadable segments", XEN_IMAGE_MAX_SEGMENTS);
        /* Insertion keeps them sorted by address. */
        size_t k = o->segment_count++;
        while (k > 0 && o->segments[k - 1].vaddr > va) {
            o->segments[k] = o->segments[k - 1];
            k--;
        }
        o->segments[k] = (struct xen_image_segment){va, ph.p_memsz, ph.p_offset, ph.p_filesz,
                                                    ph.p_flags};
    }
    if (o->segment_count == 0)
        return elf_reject(f, "no loadable segment (PT_LOAD with memory)");
    for (size_t i = 1; i < o->segment_count; i++) {
        const struct xen_image_segment *a = &o->segments[i - 1], *b = &o->segments[i];
        if (b->vaddr - a->vaddr < a->memsz)
            return elf_reject(f, "loadable segments at 0x%lx+0x%lx and 0x%lx overlap",
                              (unsigned long)a->vaddr, (unsigned long)a->memsz,
                              (unsigned long)b->vaddr);
    }
    const struct xen_image_segment *last = &o->segments[o->segment_count - 1];
    o->kstart = o->segments[0].vaddr & ~(PAGE - 1);
    uint64_t end = last->vaddr + last->memsz;
    if (end > UINT64_MAX - (PAGE - 1))
        return elf_reject(f, "the image ends at the address space's top, 0x%lx",
                          (unsigned long)end);
    o->kend = (end + PAGE - 1) & ~(PAGE - 1);
    return 0;
}

int xen_image_check(const void *file, size_t size, uint64_t image_max, struct xen_image *out,
                    char *why, size_t why_len)
{
    struct elf_check c;
    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    c.f = (struct elf_file){file, size, why, why_len};
    if (why_len > 0)
        why[0] = 0;
    int rc = elf_check_header(&c);
    if (rc)
        return rc;
    const struct elf_file *f = &c.f;
    if (c.eh.e_type != ET_EXEC)
        return elf_reject(f, "a Xen PV image must be ET_EXEC (e_type 2), not type %u",
                          c.eh.e_type);
    struct walk w = {f, XEN_IMAGE_MAX_NOTES, 0, out, 0};
    rc = find_notes(&w, &c);
    if (rc)
        return rc;
    if (w.xen_notes == 0)
        return elf_reject(f, "no note of owner \"Xen\" in a note segment or section");
    /* What Xen's loader requires of the notes (libelf's note check). */
    if (!starts_with(out->loader, "generic") && !starts_with(out->guest_os, "linux"))
        return elf_reject(f, "XEN_ELFNOTE_LOADER is \"%s\", GUEST_OS \"%s\": neither the "
                             "\"generic\" loader nor Linux", out->loader, out->guest_os);
    if (!starts_with(out->xen_version, "xen-3.0"))
        return elf_reject(f, "XEN_ELFNOTE_XEN_VERSION is \"%s\"; the x86-64 PV interface is "
                             "\"xen-3.0\"", out->xen_version);
    /* VIRT_BASE absent: 0 (out was zeroed); PADDR_OFFSET absent: VIRT_BASE. */
    if (!(w.seen & (1u << XEN_ELFNOTE_PADDR_OFFSET)))
        out->paddr_offset = out->virt_base;
    if (out->virt_base >= image_max)
        return elf_reject(f, "XEN_ELFNOTE_VIRT_BASE 0x%lx is not below 0x%lx: Xen PV guests run "
                             "in the lower half only",
                          (unsigned long)out->virt_base, (unsigned long)image_max);
    rc = take_segments(&c, out, out->virt_base - out->paddr_offset);
    if (rc)
        return rc;
    if (out->kend > image_max || out->kstart < out->virt_base)
        return elf_reject(f, "the image spans 0x%lx-0x%lx, outside 0x%lx-0x%lx (VIRT_BASE to the "
                             "image area's end)",
                          (unsigned long)out->kstart, (unsigned long)out->kend,
                          (unsigned long)out->virt_base, (unsigned long)image_max);
    if (out->kend - out->kstart > MAX_IMAGE_SPAN)
        return elf_reject(f, "the image spans 0x%lx bytes; at most 0x%lx",
                          (unsigned long)(out->kend - out->kstart), (unsigned long)MAX_IMAGE_SPAN);
    bool have_entry = w.seen & (1u << XEN_ELFNOTE_ENTRY);
    if (!have_entry)
        out->entry = c.eh.e_entry;
    if (out->entry < out->kstart || out->entry >= out->kend)
        return elf_reject(f, "the entry point 0x%lx (%s) lies outside the image 0x%lx-0x%lx",
                          (unsigned long)out->entry,
                          have_entry ? "XEN_ELFNOTE_ENTRY" : "e_entry",
                          (unsigned long)out->kstart, (unsigned long)out->kend);
    out->has_hypercall_page = w.seen & (1u << XEN_ELFNOTE_HYPERCALL_PAGE);
    if (out->has_hypercall_page &&
        ((out->hypercall_page & (PAGE - 1)) || out->hypercall_page < out->kstart ||
         out->hypercall_page >= out->kend))
        return elf_reject(f, "XEN_ELFNOTE_HYPERCALL_PAGE 0x%lx is not a page of the image "
                             "0x%lx-0x%lx", (unsigned long)out->hypercall_page,
                          (unsigned long)out->kstart, (unsigned long)out->kend);
    return 0;
}
