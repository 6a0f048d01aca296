/* Guest image validator tests: valid executables and PIEs, the ELF header,
 * the program headers (loadable segments, the entry point and the dynamic
 * table are in test_elf_image_load.c, notes in test_elf_image_notes.c; the
 * builder in elf_image_fixture.h). Rejection tests start from a valid
 * image and break one thing. */
#include "tests/unit/elf_image_fixture.h"

/* ---- valid images ---- */

static void exec_valid(void)
{
    make_exec(&B);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.type, ET_EXEC);
    CHECK_EQ_U64(img.load_bias, 0);
    CHECK_EQ_U64(img.entry, EX_ENTRY);
    CHECK_EQ_U64(img.segment_count, 4);
    CHECK_EQ_U64(img.segments[0].vaddr, 0x400000);
    CHECK_EQ_U64(img.segments[0].flags, PF_R);
    CHECK_EQ_U64(img.segments[1].vaddr, 0x401000);
    CHECK_EQ_U64(img.segments[1].offset, 0x1000);
    CHECK_EQ_U64(img.segments[1].filesz, 0x200);
    CHECK_EQ_U64(img.segments[1].flags, PF_R | PF_X);
    CHECK_EQ_U64(img.segments[2].flags, PF_R);
    CHECK_EQ_U64(img.segments[3].vaddr, 0x403000);
    CHECK_EQ_U64(img.segments[3].memsz, 0x3000);
    CHECK_EQ_U64(img.segments[3].filesz, 0x80);
    CHECK_EQ_U64(img.segments[3].flags, PF_R | PF_W);
    CHECK_EQ_U64(img.lowest, 0x400000);
    CHECK_EQ_U64(img.highest, 0x406000);
    CHECK(!img.have_note);
    CHECK_EQ_U64(img.rela_count, 0);
    CHECK_EQ_U64(img.rela_offset, 0);
}

static void exec_relocate_does_nothing(void)
{
    make_exec(&B);
    EXPECT_ACCEPT(&B);
    struct sink s = {0};
    char w[64];
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, w, sizeof(w)) == 0);
    CHECK_EQ_U64(s.count, 0);
    CHECK_STR_EQ(w, "");
}

static void exec_gnu_osabi_accepted(void)
{
    make_exec(&B);
    B.eh.e_ident[EI_OSABI] = ELFOSABI_GNU;
    EXPECT_ACCEPT(&B);
}

/* Segments listed out of order come out sorted; the extra bits of p_flags
 * are dropped; p_align 0 is fine; uninteresting program headers ignored. */
static void exec_unsorted_and_odd_headers(void)
{
    make_exec(&B);
    Elf64_Phdr text = B.ph[EX_TEXT];
    B.ph[EX_TEXT] = B.ph[EX_DATA];
    B.ph[EX_DATA] = text;
    B.ph[EX_RODATA].p_flags |= 0x0ff00000; /* PF_MASKOS */
    B.ph[EX_RODATA].p_align = 0;
    add_ph(&B, PT_NULL, 0, 0xdeadbeef, 0, 0xffffffffffff, 0, 3);
    add_ph(&B, PT_PHDR, PF_R, 64, 0x400040, 5 * 56, 5 * 56, 8);
    add_ph(&B, PT_GNU_RELRO, PF_R, 0x3000, 0x403000, 0x40, 0x40, 1);
    add_ph(&B, 0x6474e553 /* PT_GNU_PROPERTY */, PF_R, 0x99999999, 0, 0, 0, 8);
    add_ph(&B, 0x70000001, 0, ~0ull, ~0ull, ~0ull, ~0ull, 7);
    add_ph(&B, PT_LOAD, PF_R, ~0ull, ~0ull, 0, 0, 3); /* empty: ignored */
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.segment_count, 4);
    for (size_t i = 1; i < img.segment_count; i++)
        CHECK(img.segments[i - 1].vaddr < img.segments[i].vaddr);
    CHECK_EQ_U64(img.segments[1].flags, PF_R | PF_X);
    CHECK_EQ_U64(img.segments[2].flags, PF_R);
    CHECK_EQ_U64(img.segments[3].flags, PF_R | PF_W);
}

static void exec_without_gnu_stack(void)
{
    make_exec(&B);
    B.ph[EX_STACK].p_type = PT_NULL;
    EXPECT_ACCEPT(&B);
}

static void exec_image_area_edges(void)
{
    /* Lowest page exactly at HV_GUEST_IMAGE_MIN. */
    b_init(&B, ET_EXEC, 0x10000);
    add_load(&B, PF_R | PF_X, 0x1000, 0x10000, 0x10, 0x10, 0x90);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.lowest, 0x10000);
    /* Last page ending exactly at HV_GUEST_IMAGE_MAX. */
    add_load(&B, PF_R | PF_W, 0x2000, HV_GUEST_IMAGE_MAX - 0x1000, 0x10, 0x1000, 0);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.highest, HV_GUEST_IMAGE_MAX);
}

static void exec_memory_limit_exact(void)
{
    make_exec(&B);
    B.ph[EX_DATA].p_memsz = ELF_IMAGE_MAX_MEMORY - 3 * 0x1000;
    EXPECT_ACCEPT(&B);
}

static void exec_sixteen_segments(void)
{
    make_exec(&B);
    for (unsigned i = 0; i < 12; i++)
        add_ph(&B, PT_LOAD, PF_R, 0, 0x500000 + i * 0x1000, 0, 0x10, 0x1000);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.segment_count, 16);
    CHECK_EQ_U64(img.segments[15].vaddr, 0x50b000);
}

static void exec_sixty_four_phdrs(void)
{
    make_exec(&B);
    B.ph_write_off = B.eh.e_phoff = 0x4000;
    while (B.phnum < 64)
        add_ph(&B, PT_NULL, 0, 0, 0, 0, 0, 0);
    EXPECT_ACCEPT(&B);
}

/* An ET_EXEC may keep a dynamic table as long as it needs nothing from it. */
static void exec_with_harmless_dynamic(void)
{
    make_exec(&B);
    put64(&B, 0x3000, 0x6ffffffb); /* DT_FLAGS_1 */
    put64(&B, 0x3008, 0x08000000);
    put64(&B, 0x3010, DT_RELAENT);
    put64(&B, 0x3018, 24);
    put64(&B, 0x3020, DT_NULL);
    put64(&B, 0x3028, 0);
    add_ph(&B, PT_DYNAMIC, PF_R | PF_W, 0x3000, 0x403000, 0x30, 0x30, 8);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.rela_count, 0);
}

static void pie_valid_and_relocated(void)
{
    make_pie(&B);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.type, ET_DYN);
    CHECK_EQ_U64(img.load_bias, HV_GUEST_STATIC_PIE_BASE);
    CHECK_EQ_U64(img.entry, 0x401000);
    CHECK_EQ_U64(img.segment_count, 3);
    CHECK_EQ_U64(img.segments[0].vaddr, 0x400000);
    CHECK_EQ_U64(img.segments[1].vaddr, 0x401000);
    CHECK_EQ_U64(img.segments[1].offset, 0x1000);
    CHECK_EQ_U64(img.segments[2].vaddr, 0x402000);
    CHECK_EQ_U64(img.segments[2].memsz, 0x1000);
    CHECK_EQ_U64(img.lowest, 0x400000);
    CHECK_EQ_U64(img.highest, 0x403000);
    CHECK_EQ_U64(img.rela_offset, PIE_RELA);
    CHECK_EQ_U64(img.rela_count, 3);

    struct sink s = {0};
    char w[128] = "junk";
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, w, sizeof(w)) == 0);
    CHECK_STR_EQ(w, "");
    CHECK_EQ_U64(s.count, 3);
    CHECK_EQ_U64(s.va[0], 0x402100);
    CHECK_EQ_U64(s.value[0], 0x401000);
    CHECK_EQ_U64(s.va[1], 0x402108);
    CHECK_EQ_U64(s.value[1], 0x402100);
    CHECK_EQ_U64(s.va[2], 0x402110);
    CHECK_EQ_U64(s.value[2], 0x400300);
}

/* Linked above the base: the bias is "negative" and everything still lands
 * at 0x400000. */
static void pie_linked_high(void)
{
    make_pie_at(&B, 0x10000000);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.load_bias, HV_GUEST_STATIC_PIE_BASE - 0x10000000);
    CHECK_EQ_U64(img.entry, 0x401000);
    CHECK_EQ_U64(img.segments[2].vaddr, 0x402000);
    struct sink s = {0};
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, NULL, 0) == 0);
    CHECK_EQ_U64(s.count, 3);
    CHECK_EQ_U64(s.va[0], 0x402100);
    CHECK_EQ_U64(s.value[0], 0x401000);
    CHECK_EQ_U64(s.value[2], 0x400300);
}

/* The lowest segment need not start on a page: the bias is page-aligned. */
static void pie_unaligned_first_segment(void)
{
    make_pie(&B);
    B.ph[PIE_HDR].p_offset = B.ph[PIE_HDR].p_vaddr = 0x123;
    B.ph[PIE_HDR].p_filesz = B.ph[PIE_HDR].p_memsz = 0x100;
    set_dyn(&B, 0, DT_RELA, 0x1000); /* no relocations left: */
    set_dyn(&B, 1, DT_RELASZ, 0);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.load_bias, 0x400000);
    CHECK_EQ_U64(img.segments[0].vaddr, 0x400123);
    CHECK_EQ_U64(img.lowest, 0x400000);
    CHECK_EQ_U64(img.rela_count, 0);
}

static void pie_without_dynamic(void)
{
    make_pie(&B);
    B.ph[PIE_DYNAMIC].p_type = PT_NULL;
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.rela_count, 0);
    struct sink s = {0};
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, NULL, 0) == 0);
    CHECK_EQ_U64(s.count, 0);
}

/* R_X86_64_NONE is skipped; DT_RELAENT may be absent; a target may be in
 * a read-only segment (RELRO) or in bss, and unaligned. */
static void pie_relocation_variants(void)
{
    make_pie(&B);
    set_rela(&B, 0, 0, R_X86_64_NONE, 0, 0);
    set_rela(&B, 1, 0x3f8, R_X86_64_RELATIVE, 0, 0x10); /* last 8 bytes of the R segment */
    set_rela(&B, 2, 0x2ff3, R_X86_64_RELATIVE, 0, -0x10); /* bss, unaligned */
    set_dyn(&B, 2, 0x6ffffff9 /* DT_RELACOUNT */, 2);
    EXPECT_ACCEPT(&B);
    struct sink s = {0};
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, NULL, 0) == 0);
    CHECK_EQ_U64(s.count, 2);
    CHECK_EQ_U64(s.va[0], 0x4003f8);
    CHECK_EQ_U64(s.value[0], 0x400010);
    CHECK_EQ_U64(s.va[1], 0x402ff3);
    CHECK_EQ_U64(s.value[1], 0x3ffff0);
}

static void pie_span_edge(void)
{
    make_pie(&B);
    /* A sparse image whose top page ends exactly at HV_GUEST_IMAGE_MAX. */
    add_ph(&B, PT_LOAD, PF_R, 0, HV_GUEST_IMAGE_MAX - HV_GUEST_STATIC_PIE_BASE - 0x1000, 0, 8,
           0x1000);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.highest, HV_GUEST_IMAGE_MAX);
    B.ph[B.phnum - 1].p_vaddr += 0x1000;
    EXPECT_REJECT(&B, "program header 5: segment 0x7effffc00000-0x7effffc00008 ends "
                      "0x7effffc01000 bytes above the image's lowest page 0x0; loaded at 0x400000 "
                      "it would reach beyond the guest image area [0x10000, 0x7f0000000000)");
}

/* ---- the ELF header ---- */

static void header_empty_and_tiny(void)
{
    CHECK(check_bytes("", 0) < 0);
    CHECK_STR_EQ(why, "the file is empty");
    CHECK(check_bytes("\x7f" "EL", 3) < 0);
    CHECK_STR_EQ(why, "the file is only 3 bytes, shorter than an ELF header (64 bytes)");
    CHECK(check_bytes("MZ", 2) < 0);
    CHECK(strstr(why, "not an ELF file") != NULL);
}

static void header_not_elf(void)
{
    static const char text[] = "#!/bin/sh\necho hello, this is not an executable\n";
    CHECK(check_bytes(text, sizeof(text)) < 0);
    CHECK_STR_EQ(why, "not an ELF file (no magic bytes 7f 45 4c 46)");
    make_exec(&B);
    B.eh.e_ident[3] = 'f';
    EXPECT_REJECT(&B, "not an ELF file");
}

static void header_truncated(void)
{
    make_exec(&B);
    finish(&B);
    CHECK(check_bytes(B.data, 40) < 0);
    CHECK_STR_EQ(why, "the file is only 40 bytes, shorter than an ELF header (64 bytes)");
    CHECK(check_bytes(B.data, 63) < 0);
    CHECK(strstr(why, "only 63 bytes") != NULL);
}

static void header_ident(void)
{
    make_exec(&B);
    B.eh.e_ident[EI_CLASS] = ELFCLASS32;
    EXPECT_REJECT(&B, "32-bit ELF file");
    /* A 32-bit file is named as such even when shorter than an ELF64 header. */
    finish(&B);
    CHECK(check_bytes(B.data, 52) < 0);
    CHECK(strstr(why, "32-bit") != NULL);
    B.eh.e_ident[EI_CLASS] = 7;
    EXPECT_REJECT(&B, "unknown ELF class 7");
    make_exec(&B);
    B.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    EXPECT_REJECT(&B, "big-endian");
    B.eh.e_ident[EI_DATA] = 0;
    EXPECT_REJECT(&B, "unknown ELF data encoding 0");
    make_exec(&B);
    B.eh.e_ident[EI_VERSION] = 2;
    EXPECT_REJECT(&B, "ELF identification version 2");
    make_exec(&B);
    B.eh.e_ident[EI_OSABI] = 9;
    EXPECT_REJECT(&B, "built for the FreeBSD OS ABI (EI_OSABI 9)");
    B.eh.e_ident[EI_OSABI] = 77;
    EXPECT_REJECT(&B, "built for OS ABI 77");
}

static void header_type(void)
{
    make_exec(&B);
    B.eh.e_type = ET_REL;
    EXPECT_REJECT(&B, "an object file (ET_REL), not a linked executable");
    B.eh.e_type = ET_CORE;
    EXPECT_REJECT(&B, "a core dump (ET_CORE)");
    B.eh.e_type = ET_NONE;
    EXPECT_REJECT(&B, "ET_NONE");
    B.eh.e_type = 9;
    EXPECT_REJECT(&B, "unknown ELF file type 9");
    B.eh.e_type = 0xfe01;
    EXPECT_REJECT(&B, "OS- or processor-specific ELF file type 0xfe01");
}

static void header_machine(void)
{
    make_exec(&B);
    B.eh.e_machine = EM_386;
    EXPECT_REJECT(&B, "built for i386 (32-bit x86) (e_machine 3), not x86-64");
    B.eh.e_machine = EM_AARCH64;
    EXPECT_REJECT(&B, "built for AArch64");
    B.eh.e_machine = EM_RISCV;
    EXPECT_REJECT(&B, "built for RISC-V");
    B.eh.e_machine = 999;
    EXPECT_REJECT(&B, "built for machine type 999 (e_machine), not x86-64 (62)");
}

/* Files for other systems are named, so the user knows what they dropped. */
static void header_names_what_it_is(void)
{
    static const struct { unsigned v; const char *name; } abis[] = {
        {1, "HP-UX"}, {2, "NetBSD"}, {6, "Solaris"}, {7, "AIX"}, {8, "IRIX"},
        {9, "FreeBSD"}, {12, "OpenBSD"}, {255, "standalone (embedded)"},
    };
    static const struct { unsigned v; const char *name; } machines[] = {
        {2, "SPARC"}, {3, "i386 (32-bit x86)"}, {8, "MIPS"}, {20, "PowerPC"},
        {21, "64-bit PowerPC"}, {22, "IBM S/390"}, {40, "32-bit ARM"}, {43, "SPARC V9"},
        {50, "IA-64 (Itanium)"}, {183, "AArch64 (64-bit ARM)"}, {243, "RISC-V"},
        {258, "LoongArch"},
    };
    char expect[128];
    for (size_t i = 0; i < sizeof(abis) / sizeof(abis[0]); i++) {
        make_exec(&B);
        B.eh.e_ident[EI_OSABI] = (unsigned char)abis[i].v;
        snprintf(expect, sizeof(expect), "built for the %s OS ABI (EI_OSABI %u); hv accepts "
                 "System V (0) and GNU (3)", abis[i].name, abis[i].v);
        CHECK(run(&B) < 0);
        CHECK_STR_EQ(why, expect);
    }
    for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
        make_exec(&B);
        B.eh.e_machine = (uint16_t)machines[i].v;
        snprintf(expect, sizeof(expect), "built for %s (e_machine %u), not x86-64",
                 machines[i].name, machines[i].v);
        CHECK(run(&B) < 0);
        CHECK_STR_EQ(why, expect);
    }
}

static void header_version_and_sizes(void)
{
    make_exec(&B);
    B.eh.e_version = 0;
    EXPECT_REJECT(&B, "ELF version 0 (e_version)");
    make_exec(&B);
    B.eh.e_ehsize = 52;
    EXPECT_REJECT(&B, "says it is 52 bytes (e_ehsize)");
    make_exec(&B);
    B.eh.e_ehsize = 0x100; /* larger is odd but harmless */
    EXPECT_ACCEPT(&B);
    make_exec(&B);
    B.eh.e_phentsize = 32;
    EXPECT_REJECT(&B, "program header entries are 32 bytes (e_phentsize)");
}

static void header_phnum(void)
{
    make_exec(&B);
    B.eh.e_phnum = 0;
    EXPECT_REJECT(&B, "no program headers (e_phnum is 0)");
    B.eh.e_phnum = PN_XNUM;
    EXPECT_REJECT(&B, "extended program header numbering");
    make_exec(&B);
    B.ph_write_off = B.eh.e_phoff = 0x4000;
    while (B.phnum < 65)
        add_ph(&B, PT_NULL, 0, 0, 0, 0, 0, 0);
    EXPECT_REJECT(&B, "65 program headers; hv accepts at most 64");
}

static void header_phoff(void)
{
    make_exec(&B);
    B.eh.e_phoff = 0;
    EXPECT_REJECT(&B, "the program header table at 0x0 (e_phoff) overlaps the ELF header");
    B.eh.e_phoff = 0x3000;
    EXPECT_REJECT(&B, "the program header table 0x3000+0x118 (5 entries of 56 bytes) runs past "
                      "the end of the file (0x3080 bytes)");
    B.eh.e_phoff = UINT64_MAX - 0x10; /* offset + size wraps */
    EXPECT_REJECT(&B, "runs past the end of the file");
    /* Ending exactly at the end of the file is fine. */
    make_exec(&B);
    B.ph_write_off = B.eh.e_phoff = EX_SIZE;
    EXPECT_ACCEPT(&B);
    finish(&B);
    CHECK(check_bytes(B.data, B.size - 1) < 0);
    CHECK(strstr(why, "program header table") != NULL);
}

/* ---- program headers ---- */

static void phdr_interp(void)
{
    make_exec(&B);
    static const char ld[] = "/lib64/ld-linux-x86-64.so.2";
    put_bytes(&B, 0x2a0, ld, sizeof(ld));
    add_ph(&B, PT_INTERP, PF_R, 0x2a0, 0x4002a0, sizeof(ld), sizeof(ld), 1);
    EXPECT_REJECT(&B, "program header 5: PT_INTERP: needs the dynamic loader "
                      "/lib64/ld-linux-x86-64.so.2; hv runs only statically linked programs");
    /* Unterminated, unprintable or out of the file: still refused, unnamed. */
    B.ph[5].p_filesz = sizeof(ld) - 1;
    EXPECT_REJECT(&B, "PT_INTERP: needs a dynamic loader;");
    B.ph[5].p_filesz = sizeof(ld);
    B.data[0x2a3] = 0x07;
    EXPECT_REJECT(&B, "PT_INTERP: needs a dynamic loader;");
    B.ph[5].p_offset = ~0ull - 3;
    EXPECT_REJECT(&B, "PT_INTERP: needs a dynamic loader;");
    /* p_filesz claims more than the file has: the path still ends inside. */
    make_exec(&B);
    put_bytes(&B, EX_SIZE, ld, sizeof(ld));
    add_ph(&B, PT_INTERP, PF_R, EX_SIZE, 0, 0x1000, 0x1000, 1);
    EXPECT_REJECT(&B, "needs the dynamic loader /lib64/ld-linux-x86-64.so.2;");
    B.size--; /* now its NUL is cut off by the end of the file */
    EXPECT_REJECT(&B, "PT_INTERP: needs a dynamic loader;");
}

static void phdr_tls(void)
{
    make_exec(&B);
    add_ph(&B, PT_TLS, PF_R, 0x3000, 0x403000, 0x10, 0x20, 8);
    EXPECT_REJECT(&B, "program header 5: PT_TLS: the program uses thread-local storage");
}

static void phdr_exec_stack(void)
{
    make_exec(&B);
    B.ph[EX_STACK].p_flags = PF_R | PF_W | PF_X;
    EXPECT_REJECT(&B, "program header 4: PT_GNU_STACK asks for an executable stack");
}

static void phdr_two_dynamic(void)
{
    make_pie(&B);
    add_ph(&B, PT_DYNAMIC, PF_R, PIE_DYN, PIE_DYN, 0x100, 0x100, 8);
    EXPECT_REJECT(&B, "program headers 3 and 5 are both PT_DYNAMIC");
}

int main(void)
{
    check_suite = "elf_image";
    RUN_TEST(exec_valid);
    RUN_TEST(exec_relocate_does_nothing);
    RUN_TEST(exec_gnu_osabi_accepted);
    RUN_TEST(exec_unsorted_and_odd_headers);
    RUN_TEST(exec_without_gnu_stack);
    RUN_TEST(exec_image_area_edges);
    RUN_TEST(exec_memory_limit_exact);
    RUN_TEST(exec_sixteen_segments);
    RUN_TEST(exec_sixty_four_phdrs);
    RUN_TEST(exec_with_harmless_dynamic);
    RUN_TEST(pie_valid_and_relocated);
    RUN_TEST(pie_linked_high);
    RUN_TEST(pie_unaligned_first_segment);
    RUN_TEST(pie_without_dynamic);
    RUN_TEST(pie_relocation_variants);
    RUN_TEST(pie_span_edge);
    RUN_TEST(header_empty_and_tiny);
    RUN_TEST(header_not_elf);
    RUN_TEST(header_truncated);
    RUN_TEST(header_ident);
    RUN_TEST(header_type);
    RUN_TEST(header_machine);
    RUN_TEST(header_names_what_it_is);
    RUN_TEST(header_version_and_sizes);
    RUN_TEST(header_phnum);
    RUN_TEST(header_phoff);
    RUN_TEST(phdr_interp);
    RUN_TEST(phdr_tls);
    RUN_TEST(phdr_exec_stack);
    RUN_TEST(phdr_two_dynamic);
    free(file);
    return check_finish();
}
