/* PT_NOTE segments: every note is walked (so a malformed one is caught
 * wherever it is), the "hv" guest note is validated and kept, other owners'
 * notes (GNU build-id, ABI tag, properties) are skipped. Notes are read from
 * the file; they need not be in a loadable segment. The walk itself is
 * elf_note_walk.c's, shared with the Xen PV validator. */
#include "guest-loader/elf_internal.h"

_Static_assert(sizeof(struct hv_image_note) == 56, "hv_image_note has no padding");
_Static_assert(sizeof(struct hv_image_policy) == 16, "hv_image_policy has no padding");

static bool name_char_ok(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

static int take_hv_note(struct elf_check *c, unsigned index, uint64_t desc_off, uint32_t descsz,
                        unsigned *hv_note_phdr)
{
    const struct elf_file *f = &c->f;
    struct hv_image_note note;
    if (c->out->have_note)
        return elf_reject(f, "two hv guest notes (program headers %u and %u); an image has at "
                             "most one", *hv_note_phdr, index);
    if (descsz != sizeof(note))
        return elf_reject(f, "the hv guest note (program header %u) has a %u-byte descriptor; "
                             "struct hv_image_note is %zu bytes", index, descsz, sizeof(note));
    elf_copy(f, desc_off, &note, sizeof(note));
    if (note.abi_version != HV_ABI_VERSION)
        return elf_reject(f, "built for hv ABI version %u; this hv speaks version %u",
                          note.abi_version, HV_ABI_VERSION);
    size_t len = 0;
    while (len < sizeof(note.name) && note.name[len])
        len++;
    if (len == sizeof(note.name))
        return elf_reject(f, "the hv guest note's name is not NUL-terminated within its %zu "
                             "bytes", sizeof(note.name));
    for (size_t i = 0; i < len; i++)
        if (!name_char_ok(note.name[i]))
            return elf_reject(f, "the hv guest note's name has the byte 0x%02x at position %zu; "
                                 "a name may use only A-Z a-z 0-9 . _ -",
                              (unsigned char)note.name[i], i);
    c->out->note = note;
    c->out->have_note = true;
    *hv_note_phdr = index;
    return 0;
}

struct hv_notes {
    struct elf_check *c;
    unsigned index;
    unsigned *hv_note_phdr;
};

static int take_note(void *arg, const struct elf_note *n)
{
    struct hv_notes *h = arg;
    struct elf_check *c = h->c;
    if (!elf_note_owner_is(&c->f, n, "hv", 3))
        return 0;
    if (n->type == HV_NOTE_GUEST)
        return take_hv_note(c, h->index, n->desc_off, n->descsz, h->hv_note_phdr);
    /* The restart-policy note: one at most, of its exact size; its values
     * are judged with hv.cfg's keys (guest_policy_apply_note). */
    if (n->type == HV_NOTE_POLICY) {
        if (c->out->have_policy_note || n->descsz != sizeof(struct hv_image_policy))
            return elf_reject(&c->f, "a second or malformed hv policy note (program header %u)",
                              h->index);
        elf_copy(&c->f, n->desc_off, &c->out->policy_note, sizeof(c->out->policy_note));
        c->out->have_policy_note = true;
    }
    return 0;
}

int elf_check_notes(struct elf_check *c, unsigned index, const Elf64_Phdr *ph,
                    unsigned *hv_note_phdr)
{
    struct elf_note_region r = {ph->p_offset, ph->p_filesz, ph->p_align, "program header", index};
    struct hv_notes h = {c, index, hv_note_phdr};
    return elf_walk_notes(&c->f, &r, take_note, &h);
}
