/* PT_NOTE segments: every note is walked (so a malformed one is caught
 * wherever it is), the "hv" guest note is validated and kept, other owners'
 * notes (GNU build-id, ABI tag, properties) are skipped. Notes are read from
 * the file; they need not be in a loadable segment. */
#include "guest-loader/elf_internal.h"

#define NOTE_HEADER_SIZE 12

_Static_assert(sizeof(struct hv_image_note) == 56, "hv_image_note has no padding");
_Static_assert(sizeof(struct hv_image_policy) == 16, "hv_image_policy has no padding");
_Static_assert(sizeof(Elf64_Nhdr) == NOTE_HEADER_SIZE, "note header layout");

static bool name_char_ok(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

static inline __attribute__((always_inline)) bool is_hv_owner(const struct elf_file *f, uint64_t name_off, uint32_t namesz)
{
    return namesz == 3 && f->data[name_off] == 'h' && f->data[name_off + 1] == 'v' &&
           f->data[name_off + 2] == 0;
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

int elf_check_notes(struct elf_check *c, unsigned index, const Elf64_Phdr *ph,
                    unsigned *hv_note_phdr)
{
    const struct elf_file *f = &c->f;
    int rc = elf_check_file_range(c, index, "PT_NOTE", ph);
    if (rc)
        return rc;
    /* Notes are 4-aligned, except in segments aligned to 8 (GNU property
     * notes), where name and descriptor are padded to 8: readelf and the
     * kernel read them so. */
    uint64_t align = ph->p_align == 8 ? 8 : 4;
    uint64_t pos = ph->p_offset, end = ph->p_offset + ph->p_filesz;
    for (unsigned n = 0; pos < end; n++) {
        if (end - pos < NOTE_HEADER_SIZE)
            return elf_reject(f, "program header %u (PT_NOTE): note %u at file offset 0x%lx is "
                                 "cut off: 0x%lx bytes left, a note header needs 12",
                              index, n, pos, end - pos);
        uint32_t namesz = elf_read32(f, pos), descsz = elf_read32(f, pos + 4);
        uint32_t type = elf_read32(f, pos + 8);
        uint64_t name_off = pos + NOTE_HEADER_SIZE;
        if (namesz > end - name_off)
            return elf_reject(f, "program header %u (PT_NOTE): note %u at file offset 0x%lx: "
                                 "its %u-byte name runs past the end of the segment",
                              index, n, pos, namesz);
        /* The padding aligns offsets from the start of the note. */
        uint64_t name_end = name_off + namesz;
        uint64_t name_pad = (align - (NOTE_HEADER_SIZE + namesz) % align) % align;
        uint64_t desc_off = name_pad <= end - name_end ? name_end + name_pad : end;
        if (descsz > end - desc_off)
            return elf_reject(f, "program header %u (PT_NOTE): note %u at file offset 0x%lx: "
                                 "its %u-byte descriptor runs past the end of the segment",
                              index, n, pos, descsz);
        if (is_hv_owner(f, name_off, namesz) && type == HV_NOTE_GUEST) {
            rc = take_hv_note(c, index, desc_off, descsz, hv_note_phdr);
            if (rc)
                return rc;
        }
        /* The restart-policy note: one at most, of its exact size; its
         * values are judged with hv.cfg's keys (guest_policy_apply_note). */
        if (is_hv_owner(f, name_off, namesz) && type == HV_NOTE_POLICY) {
            if (c->out->have_policy_note || descsz != sizeof(struct hv_image_policy))
                return elf_reject(f, "a second or malformed hv policy note (program header %u)",
                                  index);
            elf_copy(f, desc_off, &c->out->policy_note, sizeof(c->out->policy_note));
            c->out->have_policy_note = true;
        }
        uint64_t desc_end = desc_off + descsz;
        uint64_t desc_pad = (align - descsz % align) % align;
        if (end - desc_end <= desc_pad)
            break; /* the padding of the last note may be left out */
        pos = desc_end + desc_pad;
    }
    return 0;
}
