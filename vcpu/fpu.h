/* FPU/SSE/AVX state. Saved and restored eagerly on every vCPU switch, never
 * lazily: a lazily switched FPU leaks one guest's registers to another
 * through speculation (LazyFP), and a guest must never see another's. */
#pragma once

#include <stddef.h>

void fpu_init(void);          /* turns on FXSR/XSAVE, AVX where present */
size_t fpu_area_size(void);   /* bytes per vCPU area */
void fpu_area_reset(void *area); /* the state of a CPU after reset */
void fpu_save(void *area);
void fpu_restore(const void *area);
