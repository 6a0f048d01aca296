/* Reports what the UEFI stub did to stop firmware DMA (efi/pci_quiesce.c). */
#pragma once

#include "hv/handoff.h"

void firmware_dma_report(const struct handoff *h);
