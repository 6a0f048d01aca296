/* FPU/SSE/AVX state. Saved and restored eagerly on every vCPU switch, never
 * lazily: a lazily switched FPU leaks one guest's registers to another
 * through speculation (LazyFP), and a guest must never see another's. */
#pragma once

#include <stddef.h>

void fpu_init(void);          /* turns on FXSR/XSAVE, AVX where present */
size_t fpu_area_size(void);   /* bytes per vCPU area */
/* The state of a CPU after reset, in an area of fpu_area_size() bytes
 * that is all zero (fresh from kmalloc, which zeroes: vcpu_create). */
void fpu_area_reset(void *area);
void fpu_save(void *area);
void fpu_restore(const void *area);
