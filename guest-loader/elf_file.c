/* Bounds-checked reading of a hostile file image, and the one place a
 * reason is written. */
#include "guest-loader/elf_internal.h"

#include <stdarg.h>

#include "lib/fmt.h"

int elf_reject(const struct elf_file *f, const char *fmt, ...)
{
    if (f->why && f->why_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        fmt_vformat(f->why, f->why_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

bool elf_in_file(const struct elf_file *f, uint64_t off, uint64_t len)
{
    return off <= f->size && len <= f->size - off;
}

void elf_copy(const struct elf_file *f, uint64_t off, void *dst, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = f->data + off;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
}

/* Little-endian by construction, so the result does not depend on the host. */
static uint64_t read_le(const struct elf_file *f, uint64_t off, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = bytes; i-- > 0;)
        v = (v << 8) | f->data[off + i];
    return v;
}

uint32_t elf_read32(const struct elf_file *f, uint64_t off)
{
    return (uint32_t)read_le(f, off, 4);
}

uint64_t elf_read64(const struct elf_file *f, uint64_t off)
{
    return read_le(f, off, 8);
}

bool elf_string(const struct elf_file *f, uint64_t off, uint64_t max, char *dst, size_t dst_len)
{
    if (off >= f->size || dst_len == 0)
        return false;
    uint64_t avail = f->size - off;
    if (max > avail)
        max = avail;
    for (uint64_t i = 0; i < max && i < dst_len; i++) {
        unsigned char ch = f->data[off + i];
        if (ch == 0) {
            dst[i] = 0;
            return true;
        }
        if (ch < 0x20 || ch > 0x7e)
            return false;
        dst[i] = (char)ch;
    }
    return false;
}

void elf_phdr(const struct elf_check *c, unsigned i, Elf64_Phdr *ph)
{
    elf_copy(&c->f, c->eh.e_phoff + (uint64_t)i * sizeof(Elf64_Phdr), ph, sizeof(*ph));
}

bool elf_vaddr_to_offset(const struct elf_check *c, uint64_t vaddr, uint64_t len, uint64_t *off)
{
    for (size_t i = 0; i < c->load_count; i++) {
        const Elf64_Phdr *ph = &c->loads[i];
        if (vaddr < ph->p_vaddr)
            continue;
        uint64_t delta = vaddr - ph->p_vaddr;
        if (delta > ph->p_filesz || len > ph->p_filesz - delta)
            continue;
        /* Inside the file: every PT_LOAD's file range was checked. */
        *off = ph->p_offset + delta;
        return true;
    }
    return false;
}

int elf_check_file_range(const struct elf_check *c, unsigned index, const char *what,
                         const Elf64_Phdr *ph)
{
    if (elf_in_file(&c->f, ph->p_offset, ph->p_filesz))
        return 0;
    return elf_reject(&c->f,
                      "program header %u%s%s%s: file range 0x%lx+0x%lx runs past the end of "
                      "the file (0x%zx bytes)",
                      index, what ? " (" : "", what ? what : "", what ? ")" : "", ph->p_offset,
                      ph->p_filesz, c->f.size);
}
