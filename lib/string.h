/* Freestanding memory and string basics with the standard names and
 * semantics: GCC emits calls to memcpy, memmove, memset and memcmp on its own
 * (struct copies, zero-initialisers), so these must exist under exactly these
 * names in the hypervisor image.
 *
 * Host unit tests cannot link a second memcpy next to libc's, so building
 * with -DLIB_STRING_TEST_PREFIX renames every function to lib_<name> (e.g.
 * lib_memcpy); the test calls those names. Everything else uses the standard
 * names and must not define LIB_STRING_TEST_PREFIX. */
#pragma once

#include <stddef.h>

#ifdef LIB_STRING_TEST_PREFIX
#define LIB_STRING_NAME(name) lib_##name
#else
#define LIB_STRING_NAME(name) name
#endif

void *LIB_STRING_NAME(memcpy)(void *restrict dst, const void *restrict src, size_t n);
/* Copies correctly when the two ranges overlap. */
void *LIB_STRING_NAME(memmove)(void *dst, const void *src, size_t n);
/* Fills with (unsigned char)c. */
void *LIB_STRING_NAME(memset)(void *dst, int c, size_t n);
/* Bytes compare as unsigned char; the sign of the result is what counts. */
int LIB_STRING_NAME(memcmp)(const void *a, const void *b, size_t n);
size_t LIB_STRING_NAME(strlen)(const char *s);
/* Reads at most max bytes, so s need not be terminated within them. */
size_t LIB_STRING_NAME(strnlen)(const char *s, size_t max);
int LIB_STRING_NAME(strcmp)(const char *a, const char *b);
int LIB_STRING_NAME(strncmp)(const char *a, const char *b, size_t n);
/* Finds (char)c; searching for '\0' returns the terminator. */
char *LIB_STRING_NAME(strchr)(const char *s, int c);
char *LIB_STRING_NAME(strrchr)(const char *s, int c);
