/* screentext FILE.ppm [--cell-origin X Y]
 *
 * Prints the text the hypervisor's framebuffer console shows in a QEMU
 * screendump (binary PPM): one line per row of 8x16 cells, trailing spaces
 * and trailing empty lines removed. A cell that shows no glyph of the font
 * prints '?'; the box the font draws for non-printable bytes prints U+25A1
 * (UTF-8). --cell-origin gives the top-left pixel of the first cell (default
 * 0 0). Exit status: 0 on success, 2 on bad usage or an unreadable or
 * malformed file, 1 if the text cannot be written out. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tools/screen_decode.h"

/* Far above any real screendump; stops a wrong path (say, a disk image) from
 * eating all memory before it is rejected. */
#define MAX_FILE_SIZE ((size_t)1 << 30)

static const char *program = "screentext";

static void usage(void)
{
    fprintf(stderr, "usage: %s FILE.ppm [--cell-origin X Y]\n", program);
    exit(2);
}

static bool parse_size(const char *text, size_t *out)
{
    if (text[0] < '0' || text[0] > '9') /* strtoull would accept "-1", " 1" */
        return false;
    errno = 0;
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value > SIZE_MAX)
        return false;
    *out = (size_t)value;
    return true;
}

/* Reads the whole file (works for pipes too). Returns NULL with *why set. */
static uint8_t *read_file(const char *path, size_t *len, const char **why)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        *why = strerror(errno);
        return NULL;
    }
    size_t capacity = 1 << 20, used = 0;
    uint8_t *buf = malloc(capacity);
    if (buf == NULL) {
        *why = "out of memory";
        fclose(file);
        return NULL;
    }
    for (;;) {
        if (used == capacity) {
            if (capacity >= MAX_FILE_SIZE) {
                *why = "file is too large for a screendump";
                goto fail;
            }
            capacity *= 2;
            uint8_t *bigger = realloc(buf, capacity);
            if (bigger == NULL) {
                *why = "out of memory";
                goto fail;
            }
            buf = bigger;
        }
        size_t got = fread(buf + used, 1, capacity - used, file);
        used += got;
        if (got == 0) {
            if (ferror(file)) {
                *why = errno != 0 ? strerror(errno) : "read error";
                goto fail;
            }
            break;
        }
    }
    fclose(file);
    *len = used;
    return buf;
fail:
    free(buf);
    fclose(file);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    size_t origin_x = 0, origin_y = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cell-origin") == 0) {
            if (argc - i < 3 || !parse_size(argv[i + 1], &origin_x) ||
                !parse_size(argv[i + 2], &origin_y)) {
                fprintf(stderr, "%s: --cell-origin needs two pixel "
                                "coordinates (non-negative integers)\n",
                        program);
                usage();
            }
            i += 2;
        } else if (path == NULL && argv[i][0] != '-') {
            path = argv[i];
        } else {
            usage();
        }
    }
    if (path == NULL)
        usage();

    size_t len = 0;
    const char *why = NULL;
    uint8_t *file = read_file(path, &len, &why);
    if (file == NULL) {
        fprintf(stderr, "%s: %s: cannot read: %s\n", program, path, why);
        return 2;
    }

    struct screen_image image;
    why = screen_parse_ppm(file, len, &image);
    if (why != NULL) {
        fprintf(stderr, "%s: %s: %s\n", program, path, why);
        free(file);
        return 2;
    }
    if (origin_x >= image.width || origin_y >= image.height) {
        fprintf(stderr, "%s: %s: cell origin %zu,%zu lies outside the %zux%zu "
                        "image\n",
                program, path, origin_x, origin_y, image.width, image.height);
        free(file);
        return 2;
    }

    char *text = screen_decode_text(&image, origin_x, origin_y);
    free(file);
    if (text == NULL) {
        fprintf(stderr, "%s: %s: out of memory\n", program, path);
        return 2;
    }
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == SCREEN_DECODE_BOX)
            fputs("\u25a1", stdout);
        else
            putchar(*p);
    }
    free(text);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: cannot write output: %s\n", program,
                strerror(errno));
        return 1;
    }
    return 0;
}
