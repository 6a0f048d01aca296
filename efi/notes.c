/* The stub's report lines. Print goes through the firmware's consoles: on
 * QEMU's OVMF about 10,000 instructions a character (each glyph drawn
 * through the graphics output, each byte through the serial terminal), so
 * the stub's six lines once cost ~2.5 M of a 11 M boot (docs/benchmarks.md,
 * boot_first_guest). Lines that only report go into the handoff instead and
 * hv logs them, on its own consoles, right after its banner. Only a
 * failure's line is printed at once, the notes gathered until then first,
 * so the screen shows what the stub had found. The two signs of life it
 * printed until issue 12's eighth round ("UEFI stub starting", "exiting
 * boot services": 0.54 M instructions of boot_first_guest) paid for the
 * entropy-coded core's unpacking. */
#include "efi/stub.h"

static struct handoff *notes;

void stub_notes_to(struct handoff *h)
{
    notes = h;
    h->stub_notes_len = 0;
}

void stub_note(const char *fmt, ...)
{
    CHAR16 wide[HANDOFF_STUB_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    stub_vsprint(wide, sizeof(wide), fmt, ap);
    va_end(ap);
    if (!notes) {
        stub_print("hv: %s\r\n", wide);
        return;
    }
    UINTN n = 0;
    while (wide[n])
        n++;
    if (n + 1 > sizeof(notes->stub_notes) - notes->stub_notes_len) {
        notes->stub_notes_lost++;
        return;
    }
    char *out = notes->stub_notes + notes->stub_notes_len;
    for (UINTN i = 0; i < n; i++)
        out[i] = wide[i] >= 0x20 && wide[i] <= 0x7e ? (char)wide[i] : '?';
    out[n] = '\n';
    notes->stub_notes_len += (uint32_t)(n + 1);
}

void stub_notes_print(void)
{
    if (!notes)
        return;
    uint32_t start = 0;
    for (uint32_t i = 0; i < notes->stub_notes_len; i++) {
        if (notes->stub_notes[i] != '\n')
            continue;
        notes->stub_notes[i] = '\0';
        stub_print("hv: %a\r\n", notes->stub_notes + start);
        notes->stub_notes[i] = '\n';
        start = i + 1;
    }
}

uint64_t stub_fail(const char *line)
{
    stub_notes_print();
    stub_print("hv: %a\r\n", line);
    return 0;
}
