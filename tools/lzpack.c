/* lzpack IN OUT: packs an ELF file in hvlz (lib/lz.h), its executable
 * segments through the branch filter first (lib/branch_filter.h), and checks
 * the result by unpacking and unfiltering it with the code the UEFI stub
 * uses before writing it. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/branch_filter.h"
#include "lib/elf64.h"
#include "lib/lz.h"
#include "tools/lz_pack.h"

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

/* Applies the branch filter to the ELF file's executable segments, in
 * program-header order, as the stub does (segments that shared bytes would
 * not come back exactly: the check in main refuses them). -1 if its headers
 * or a segment do not fit in the file. */
static int filter_code_segments(uint8_t *file, size_t size, bool encode)
{
    Elf64_Ehdr eh;
    if (size < sizeof(eh))
        return -1;
    memcpy(&eh, file, sizeof(eh));
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > size ||
        (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
        return -1;
    for (unsigned k = 0; k < eh.e_phnum; k++) {
        Elf64_Phdr ph;
        memcpy(&ph, file + eh.e_phoff + k * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
            continue;
        if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
            return -1;
        (encode ? branch_filter_encode : branch_filter_decode)(file + ph.p_offset, ph.p_filesz);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lzpack IN OUT\n");
        return 2;
    }
    size_t n = 0;
    uint8_t *in = read_file(argv[1], &n);
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    /* The core's calls and jumps as offsets (lib/branch_filter.h); `orig`
     * keeps the file as it was for the check below. */
    uint8_t *orig = malloc(n ? n : 1);
    if (orig)
        memcpy(orig, in, n);
    if (!orig || filter_code_segments(in, n, true) != 0) {
        fprintf(stderr, "lzpack: %s: not an ELF file lzpack can read (or out of memory)\n",
                argv[1]);
        return 1;
    }
    uint8_t *packed = malloc(lz_pack_bound(n));
    uint8_t *check = malloc(n ? n : 1);
    size_t size = packed && check ? lz_pack(in, n, packed) : 0;
    if (!size) {
        fprintf(stderr, "lzpack: %s: cannot pack (out of memory or over 4 GiB)\n", argv[1]);
        return 1;
    }
    if (lz_unpack(packed, size, check, n) != 0 || filter_code_segments(check, n, false) != 0 ||
        memcmp(check, orig, n) != 0) {
        fprintf(stderr, "lzpack: %s: the packed form does not unpack to the input\n", argv[1]);
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(packed, 1, size, f) != size || fclose(f) != 0) {
        perror(argv[2]);
        return 1;
    }
    free(in);
    free(orig);
    free(packed);
    free(check);
    return 0;
}
