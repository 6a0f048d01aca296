/* Text console on the firmware's linear framebuffer: the log on screen, for
 * the PCs (most laptops) that have no serial port. */
#pragma once

#include <stdbool.h>

#include "hv/handoff.h"

bool fbcon_init(const struct handoff_framebuffer *fb);
