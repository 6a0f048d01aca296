/* The ELF header: is this a 64-bit little-endian x86-64 executable at all,
 * and is its program header table where it says. Names what the file is
 * instead when that is common (a 32-bit file, an object file, an AArch64
 * program), since that is what a user who dropped it there needs to hear. */
#include "guest-loader/elf_internal.h"

_Static_assert(sizeof(Elf64_Ehdr) == 64 && sizeof(Elf64_Phdr) == 56, "ELF64 layout");

static const char *osabi_name(unsigned v)
{
    switch (v) {
    case 1: return "HP-UX";
    case 2: return "NetBSD";
    case 6: return "Solaris";
    case 7: return "AIX";
    case 8: return "IRIX";
    case 9: return "FreeBSD";
    case 12: return "OpenBSD";
    case 255: return "standalone (embedded)";
    default: return NULL;
    }
}

static const char *machine_name(unsigned m)
{
    switch (m) {
    case 2: return "SPARC";
    case EM_386: return "i386 (32-bit x86)";
    case 8: return "MIPS";
    case 20: return "PowerPC";
    case 21: return "64-bit PowerPC";
    case 22: return "IBM S/390";
    case EM_ARM: return "32-bit ARM";
    case 43: return "SPARC V9";
    case 50: return "IA-64 (Itanium)";
    case EM_AARCH64: return "AArch64 (64-bit ARM)";
    case EM_RISCV: return "RISC-V";
    case 258: return "LoongArch";
    default: return NULL;
    }
}

static int check_ident(const struct elf_file *f)
{
    static const unsigned char magic[4] = {0x7f, 'E', 'L', 'F'};
    if (f->size == 0)
        return elf_reject(f, "the file is empty");
    for (size_t i = 0; i < 4 && i < f->size; i++)
        if (f->data[i] != magic[i])
            return elf_reject(f, "not an ELF file (no magic bytes 7f 45 4c 46)");
    if (f->size < EI_NIDENT)
        return elf_reject(f, "the file is only %zu bytes, shorter than an ELF header (64 bytes)",
                          f->size);

    unsigned cls = f->data[EI_CLASS], data = f->data[EI_DATA];
    unsigned version = f->data[EI_VERSION], osabi = f->data[EI_OSABI];
    if (cls == ELFCLASS32)
        return elf_reject(f, "a 32-bit ELF file (ELFCLASS32); hv runs only 64-bit x86-64 programs");
    if (cls != ELFCLASS64)
        return elf_reject(f, "unknown ELF class %u (EI_CLASS); 64-bit files have 2", cls);
    if (data == ELFDATA2MSB)
        return elf_reject(f, "a big-endian ELF file (ELFDATA2MSB); x86-64 programs are "
                             "little-endian");
    if (data != ELFDATA2LSB)
        return elf_reject(f, "unknown ELF data encoding %u (EI_DATA); little-endian files "
                             "have 1", data);
    if (version != EV_CURRENT)
        return elf_reject(f, "ELF identification version %u (EI_VERSION); the only one is 1",
                          version);
    if (osabi != ELFOSABI_SYSV && osabi != ELFOSABI_GNU) {
        const char *name = osabi_name(osabi);
        if (name)
            return elf_reject(f, "built for the %s OS ABI (EI_OSABI %u); hv accepts System V "
                                 "(0) and GNU (3)", name, osabi);
        return elf_reject(f, "built for OS ABI %u (EI_OSABI); hv accepts System V (0) and "
                             "GNU (3)", osabi);
    }
    if (f->size < sizeof(Elf64_Ehdr))
        return elf_reject(f, "the file is only %zu bytes, shorter than an ELF header (64 bytes)",
                          f->size);
    return 0;
}

static int check_type_and_machine(const struct elf_check *c)
{
    const struct elf_file *f = &c->f;
    unsigned type = c->eh.e_type, machine = c->eh.e_machine;
    switch (type) {
    case ET_EXEC:
    case ET_DYN:
        break;
    case ET_NONE:
        return elf_reject(f, "an ELF file of no type (e_type ET_NONE), not an executable");
    case ET_REL:
        return elf_reject(f, "an object file (ET_REL), not a linked executable");
    case ET_CORE:
        return elf_reject(f, "a core dump (ET_CORE), not an executable");
    default:
        if (type >= 0xfe00)
            return elf_reject(f, "an OS- or processor-specific ELF file type 0x%x (e_type), "
                                 "not an executable", type);
        return elf_reject(f, "unknown ELF file type %u (e_type), not an executable", type);
    }
    if (machine != EM_X86_64) {
        const char *name = machine_name(machine);
        if (name)
            return elf_reject(f, "built for %s (e_machine %u), not x86-64", name, machine);
        return elf_reject(f, "built for machine type %u (e_machine), not x86-64 (62)", machine);
    }
    return 0;
}

int elf_check_header(struct elf_check *c)
{
    const struct elf_file *f = &c->f;
    int rc = check_ident(f);
    if (rc)
        return rc;
    elf_copy(f, 0, &c->eh, sizeof(c->eh));
    const Elf64_Ehdr *eh = &c->eh;
    rc = check_type_and_machine(c);
    if (rc)
        return rc;
    if (eh->e_version != EV_CURRENT)
        return elf_reject(f, "ELF version %u (e_version); the only one is 1", eh->e_version);
    if (eh->e_ehsize < sizeof(Elf64_Ehdr))
        return elf_reject(f, "the ELF header says it is %u bytes (e_ehsize), under 64", eh->e_ehsize);
    if (eh->e_phnum == 0)
        return elf_reject(f, "no program headers (e_phnum is 0), so nothing to load");
    if (eh->e_phnum == PN_XNUM)
        return elf_reject(f, "uses extended program header numbering (e_phnum 0xffff): not "
                             "supported");
    if (eh->e_phnum > ELF_IMAGE_MAX_PHDRS)
        return elf_reject(f, "%u program headers; hv accepts at most %u", eh->e_phnum,
                          ELF_IMAGE_MAX_PHDRS);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return elf_reject(f, "program header entries are %u bytes (e_phentsize); ELF64 ones "
                             "are 56", eh->e_phentsize);
    uint64_t table = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
    if (eh->e_phoff < sizeof(Elf64_Ehdr))
        return elf_reject(f, "the program header table at 0x%lx (e_phoff) overlaps the ELF "
                             "header", eh->e_phoff);
    if (!elf_in_file(f, eh->e_phoff, table))
        return elf_reject(f, "the program header table 0x%lx+0x%lx (%u entries of 56 bytes) "
                             "runs past the end of the file (0x%zx bytes)",
                          eh->e_phoff, table, eh->e_phnum, f->size);
    return 0;
}
