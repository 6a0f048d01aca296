#include "hv/cpu/lock_order.h"

#include "hv/debug/panic.h"

void lock_order_violation(unsigned level, unsigned held_level)
{
    panic("lock order: %s taken while holding %s (docs/design.md, \"Locking\")",
          lock_level_name(level), lock_level_name(held_level));
}
