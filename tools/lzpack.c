/* lzpack IN OUT: packs a file in hvlz (lib/lz.h) and checks the result by
 * unpacking it with the decoder the UEFI stub uses before writing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    uint8_t *packed = malloc(lz_pack_bound(n));
    uint8_t *check = malloc(n ? n : 1);
    size_t size = packed && check ? lz_pack(in, n, packed) : 0;
    if (!size) {
        fprintf(stderr, "lzpack: %s: cannot pack (out of memory or over 4 GiB)\n", argv[1]);
        return 1;
    }
    if (lz_unpack(packed, size, check, n) != 0 || memcmp(check, in, n) != 0) {
        fprintf(stderr, "lzpack: %s: the packed form does not unpack to the input\n", argv[1]);
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(packed, 1, size, f) != size || fclose(f) != 0) {
        perror(argv[2]);
        return 1;
    }
    free(in);
    free(packed);
    free(check);
    return 0;
}
