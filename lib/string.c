/* See lib/string.h for the LIB_STRING_TEST_PREFIX renaming used by the host
 * unit test. */
#include "lib/string.h"

#include <stdint.h>

/* GCC recognises these loops and would replace them with calls to memcpy or
 * memset -- that is, with calls to themselves. Same trick as glibc. */
#define NO_LIBCALL_LOOPS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALL_LOOPS
void *LIB_STRING_NAME(memcpy)(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    size_t i = 0;

    /* A word at a time: hv copies structures and guest data with
     * interrupts off, and a byte loop costs three instructions a byte. */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, s + i, 8);
        __builtin_memcpy(d + i, &w, 8);
    }
    for (; i < n; i++)
        d[i] = s[i];
    return dst;
}

NO_LIBCALL_LOOPS
void *LIB_STRING_NAME(memmove)(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    /* Copying backwards is only needed when dst starts inside src. */
    if ((uintptr_t)d - (uintptr_t)s >= n) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else {
        for (size_t i = n; i > 0; i--)
            d[i - 1] = s[i - 1];
    }
    return dst;
}

NO_LIBCALL_LOOPS
void *LIB_STRING_NAME(memset)(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    uint64_t w = 0x0101010101010101ULL * (unsigned char)c;
    size_t i = 0;

    for (; i + 8 <= n; i += 8)
        __builtin_memcpy(d + i, &w, 8);
    for (; i < n; i++)
        d[i] = (unsigned char)c;
    return dst;
}

int LIB_STRING_NAME(memcmp)(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

size_t LIB_STRING_NAME(strlen)(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0')
        n++;
    return n;
}

size_t LIB_STRING_NAME(strnlen)(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

int LIB_STRING_NAME(strcmp)(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

    while (*x != '\0' && *x == *y) {
        x++;
        y++;
    }
    return (*x > *y) - (*x < *y);
}

int LIB_STRING_NAME(strncmp)(const char *a, const char *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
        if (x[i] == '\0')
            break;
    }
    return 0;
}

char *LIB_STRING_NAME(strchr)(const char *s, int c)
{
    const char wanted = (char)c;

    for (;; s++) {
        if (*s == wanted)
            return (char *)s;
        if (*s == '\0')
            return NULL;
    }
}

char *LIB_STRING_NAME(strrchr)(const char *s, int c)
{
    const char wanted = (char)c;
    const char *last = NULL;

    for (;; s++) {
        if (*s == wanted)
            last = s;
        if (*s == '\0')
            return (char *)last;
    }
}
