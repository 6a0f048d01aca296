/* symtab_pack CORE.ELF OUT: writes the function table of hv/debug/symtab.h
 * for the core's STT_FUNC symbols (the Makefile adds it to the copy of the
 * core in hv.efi as `.hvsyms`), and checks that hv's own reader finds every
 * function in it again before writing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/debug/symtab.h"
#include "lib/elf64.h"
#include "tools/symtab_enc.h"

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        return NULL;
    long n = ftell(f);
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (!buf || fseek(f, 0, SEEK_SET) != 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static int fail(const char *path, const char *why)
{
    fprintf(stderr, "symtab_pack: %s: %s\n", path, why);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: symtab_pack CORE.ELF OUT\n");
        return 2;
    }
    size_t size = 0;
    uint8_t *elf = read_file(argv[1], &size);
    if (!elf)
        return fail(argv[1], "cannot read");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
    if (size < sizeof(*eh) || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
        (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size - eh->e_shoff)
        return fail(argv[1], "not an ELF64 file with section headers");
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(elf + eh->e_shoff);
    const Elf64_Shdr *symsh = NULL;
    for (unsigned i = 0; i < eh->e_shnum; i++)
        if (sh[i].sh_type == SHT_SYMTAB && sh[i].sh_link < eh->e_shnum)
            symsh = &sh[i];
    if (!symsh)
        return fail(argv[1], "no symbol table");
    const Elf64_Shdr *strsh = &sh[symsh->sh_link];
    if (symsh->sh_offset > size || symsh->sh_size > size - symsh->sh_offset ||
        strsh->sh_offset > size || strsh->sh_size > size - strsh->sh_offset ||
        strsh->sh_size == 0 || elf[strsh->sh_offset + strsh->sh_size - 1] != '\0')
        return fail(argv[1], "bad symbol or string table");
    const Elf64_Sym *syms = (const Elf64_Sym *)(elf + symsh->sh_offset);
    size_t count = symsh->sh_size / sizeof(Elf64_Sym), n = 0, names = 0;
    struct symtab_entry *e = calloc(count ? count : 1, sizeof(*e));
    if (!e)
        return fail(argv[1], "out of memory");
    for (size_t i = 0; i < count; i++) {
        const Elf64_Sym *s = &syms[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == 0 || s->st_name >= strsh->sh_size)
            continue;
        e[n].start = s->st_value;
        e[n].size = s->st_size;
        /* GCC's clones and split-off parts (f.cold, f.part.0, f.isra.0,
         * f.constprop.0) go by their function's name: that is what a panic
         * report's reader looks for, and the suffixes cost ~80 bytes of
         * hv.efi. */
        const char *full = (const char *)elf + strsh->sh_offset + s->st_name;
        size_t keep = strcspn(full, ".");
        e[n].name = keep && full[keep] ? strndup(full, keep) : full;
        if (!e[n].name)
            return fail(argv[1], "out of memory");
        names += strlen(e[n].name) + 1;
        n++;
    }
    size_t cap = sizeof(struct symtab_header) + 20 * n + names;
    uint8_t *out = malloc(cap);
    size_t len = out ? symtab_encode(e, n, out, cap) : 0;
    struct symtab t;
    if (!len || !symtab_open(&t, out, len))
        return fail(argv[1], "cannot encode the table");
    for (size_t i = 0; i < n; i++) {
        uint64_t off = 1;
        const char *name = symtab_lookup(&t, e[i].start, &off);
        /* An alias (same start) reads back as the first of its names. */
        if (!name || off != 0 || (strcmp(name, e[i].name) != 0 && (i == 0 || e[i - 1].start != e[i].start)))
            return fail(argv[1], "the table does not read back");
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(out, 1, len, f) != len || fclose(f) != 0)
        return fail(argv[2], "cannot write");
    return 0;
}
