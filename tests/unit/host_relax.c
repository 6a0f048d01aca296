#include "tests/unit/host_relax.h"

#include <sched.h>

void host_spin_relax(void)
{
    sched_yield();
}
