#include "hv/debug/symbols.h"

#include "hv/debug/symtab.h"
#include "lib/elf64.h"

static struct symtab table;

/* The table is the contents of the one section that starts with its magic
 * (the Makefile's hv-core.sym.elf adds it as `.hvsyms`); no section name
 * is looked at, so no string table is needed. */
void symbols_init(const void *elf, size_t size)
{
    const uint8_t *base = elf;
    const Elf64_Ehdr *eh = elf;
    if (size < sizeof(*eh) || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
        (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size - eh->e_shoff)
        return;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
    for (uint16_t i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_NOBITS || sh[i].sh_offset > size ||
            sh[i].sh_size > size - sh[i].sh_offset)
            continue;
        if (symtab_open(&table, base + sh[i].sh_offset, sh[i].sh_size))
            return;
    }
}

const char *symbols_lookup(uint64_t addr, uint64_t *offset)
{
    return symtab_lookup(&table, addr, offset);
}
