/* The text of hv's report on firmware DMA (hv/firmware_dma.c): pure, so the
 * host unit tests can check it (tests/unit/test_firmware_dma_text.c). */
#pragma once

#include <stddef.h>

#include "hv/handoff.h"

/* Whether a function is named in the summary: one hv acted on that was
 * doing something (a firmware driver had it, or bus mastering was on). */
bool firmware_dma_active(const struct handoff_pci_function *f);

/* What became of a function, in a few words: "disconnected", "bus master
 * cleared", "STILL MASTERING", ... */
const char *firmware_dma_outcome(const struct handoff_pci_function *f);

/* One line, at most size - 1 characters (NUL-terminated when size > 0):
 * "stopped 3 of 6 PCI function(s): USB xHCI at 00:02.0 (disconnected), ...;
 * 0 idle; kept 1 display(s), 2 bridge(s)". Active functions that do not fit
 * are counted ("and 2 more") instead of cut in the middle. */
void firmware_dma_summary(char *buf, size_t size, const struct handoff_pci *pci);
