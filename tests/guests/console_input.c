/* Reads a line of console input with the SDK (hvg_console_input_open,
 * hvg_getline: HV_VIRQ_CONSOLE and HV_CALL_CONSOLE_READ underneath), says it
 * is ready first, and prints "NAME got: LINE". Several copies show the focus
 * moving; the serial line and the PS/2 keyboard both feed it. */
#include "hvg.h"

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    char line[128];

    /* Bound before "ready": hv takes input from then on. */
    if (hvg_console_input_open() < 0)
        return 3;
    hvg_printf("%s: ready for input\n", si->name);
    if (hvg_getline(line, sizeof(line)) < 0)
        return 4;
    hvg_printf("%s got: %s\n", si->name, line);
    return 0;
}
