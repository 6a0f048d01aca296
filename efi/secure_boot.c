/* Says whether the firmware enforced Secure Boot on this boot: when it did,
 * hv.efi itself was signature-checked, but the guest images it loads are
 * not (the firmware never sees them; the image hashes cover them). */
#include "efi/stub.h"

/* A one-byte UEFI global variable (SecureBoot, SetupMode): 0, 1, or -1 when
 * it is missing or not one byte (firmware without Secure Boot support). */
static int global_flag(CHAR16 *name)
{
    EFI_GUID global = EFI_GLOBAL_VARIABLE;
    UINT8 value = 0;
    UINTN size = sizeof(value);
    UINT32 attributes = 0;
    EFI_STATUS s = uefi_call_wrapper(RT->GetVariable, 5, name, &global, &attributes, &size, &value);
    if (EFI_ERROR(s) || size != sizeof(value))
        return -1;
    return value != 0;
}

bool stub_report_secure_boot(void)
{
    int enforced = global_flag(L"SecureBoot");
    int setup = global_flag(L"SetupMode");
    if (enforced == 1)
        stub_note("Secure Boot: on (the firmware checked hv.efi's signature)");
    else if (setup == 1)
        stub_note("Secure Boot: off (setup mode: no platform key)");
    else if (enforced == 0)
        stub_note("Secure Boot: off");
    else
        stub_note("Secure Boot: not supported");
    return enforced == 1 && setup != 1;
}
