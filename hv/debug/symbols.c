#include "hv/debug/symbols.h"

#include "lib/elf64.h"

static const Elf64_Sym *syms;
static size_t sym_count;
static const char *strtab;
static size_t strtab_size;

void symbols_init(const void *elf, size_t size)
{
    const uint8_t *base = elf;
    const Elf64_Ehdr *eh = elf;
    if (size < sizeof(*eh) || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
        (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size - eh->e_shoff)
        return;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
    for (uint16_t i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *st = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset ||
            st->sh_offset > size || st->sh_size > size - st->sh_offset || st->sh_size == 0)
            return;
        syms = (const Elf64_Sym *)(base + sh[i].sh_offset);
        sym_count = sh[i].sh_size / sizeof(Elf64_Sym);
        strtab = (const char *)(base + st->sh_offset);
        strtab_size = st->sh_size;
        return;
    }
}

const char *symbols_lookup(uint64_t addr, uint64_t *offset)
{
    const Elf64_Sym *best = NULL;
    for (size_t i = 0; i < sym_count; i++) {
        const Elf64_Sym *s = &syms[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_value > addr || s->st_name >= strtab_size)
            continue;
        if (!best || s->st_value > best->st_value)
            best = s;
    }
    if (!best || (best->st_size && addr >= best->st_value + best->st_size))
        return NULL;
    /* The string table must end in a NUL for the name to be safe to print. */
    if (strtab[strtab_size - 1] != '\0')
        return NULL;
    *offset = addr - best->st_value;
    return strtab + best->st_name;
}
