/* efi/efi_lib.c: stub_print's conversions (ASCII formats) (the stub's messages, and what a
 * firmware console receives: chunks of at most 127 characters, each NUL-
 * terminated) against a fake SIMPLE_TEXT_OUTPUT, and CompareGuid. */
#include "efi/stub.h"

#include "tests/unit/check.h"

static CHAR16 seen[4096];
static size_t seen_len;
static size_t calls, longest_chunk;

static EFI_STATUS EFIAPI capture(SIMPLE_TEXT_OUTPUT_INTERFACE *self, CHAR16 *s)
{
    (void)self;
    size_t n = 0;
    while (s[n])
        n++;
    if (n > longest_chunk)
        longest_chunk = n;
    for (size_t i = 0; i < n && seen_len < sizeof(seen) / sizeof(seen[0]) - 1; i++)
        seen[seen_len++] = s[i];
    calls++;
    return EFI_SUCCESS;
}

static SIMPLE_TEXT_OUTPUT_INTERFACE console = {.OutputString = capture};
static EFI_BOOT_SERVICES boot_services;
static EFI_RUNTIME_SERVICES runtime_services;
static EFI_SYSTEM_TABLE system_table = {.ConOut = &console, .BootServices = &boot_services,
                                        .RuntimeServices = &runtime_services};

/* What stub_print sent, as ASCII (every test string is). */
static const char *printed(void)
{
    static char out[4096];
    for (size_t i = 0; i <= seen_len; i++)
        out[i] = i < seen_len ? (char)seen[i] : 0;
    seen_len = 0;
    calls = 0;
    return out;
}

static void conversions(void)
{
    InitializeLib(NULL, &system_table);
    CHECK(BS == &boot_services && RT == &runtime_services && ST == &system_table);
    UINTN n = stub_print("hv: framebuffer %ux%u at 0x%lx\r\n", 1280u, 800u, 0xc0000000ull);
    CHECK_STR_EQ(printed(), "hv: framebuffer 1280x800 at 0xc0000000\r\n");
    CHECK_EQ_U64(n, 40);
    stub_print("%u %x %lu %lx", 0xffffffffu, 0xdeadbeefu, 18446744073709551615ull, 0x123456789abcdefull);
    CHECK_STR_EQ(printed(), "4294967295 deadbeef 18446744073709551615 123456789abcdef");
    /* No signed conversion: no message of the stub's prints one. */
    stub_print("%d", -1);
    CHECK_STR_EQ(printed(), "%d");
    stub_print("[%s] [%a] [%s]", L"wide", (CHAR8 *)"narrow", (CHAR16 *)NULL);
    CHECK_STR_EQ(printed(), "[wide] [narrow] []");
    stub_print("failed (%r)", (EFI_STATUS)EFI_BUFFER_TOO_SMALL);
    CHECK_STR_EQ(printed(), "failed (0x8000000000000005)");
    stub_print("100%% %q and a trailing %");
    CHECK_STR_EQ(printed(), "100% %q and a trailing %");
    stub_print("");
    CHECK_EQ_U64(calls, 0);
}

static void long_output_in_chunks(void)
{
    char fmt[601];
    for (int i = 0; i < 600; i++)
        fmt[i] = (char)('a' + i % 26);
    fmt[600] = 0;
    longest_chunk = 0;
    CHECK_EQ_U64(stub_print(fmt), 600);
    CHECK_EQ_U64(calls, 5);       /* 127 characters a call */
    CHECK_EQ_U64(longest_chunk, 127);
    const char *out = printed();
    CHECK_EQ_U64(strlen(out), 600);
    CHECK(out[0] == 'a' && out[599] == (char)('a' + 599 % 26));
}

static void guids(void)
{
    EFI_GUID a = EFI_PCI_IO_PROTOCOL_GUID, b = EFI_PCI_IO_PROTOCOL_GUID;
    CHECK_EQ_U64(CompareGuid(&a, &b), 0);
    CHECK_EQ_U64(CompareGuid(&a, STUB_GUID(stub_pci_io_guid)), 0);
    b.Data4[7] ^= 1;
    CHECK(CompareGuid(&a, &b) != 0);
    CHECK(CompareGuid(STUB_GUID(stub_loaded_image_guid), STUB_GUID(stub_pci_io_guid)) != 0);
}

static UINTN vsprint(CHAR16 *buf, UINTN bytes, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    UINTN n = stub_vsprint(buf, bytes, fmt, ap);
    va_end(ap);
    return n;
}

static bool wide_is(const CHAR16 *w, const char *a)
{
    size_t i = 0;
    for (; a[i]; i++)
        if (w[i] != (CHAR16)a[i])
            return false;
    return w[i] == 0;
}

/* efi/notes.c formats the stub's report lines with stub_vsprint: the same
 * conversions into a buffer, cut to fit and NUL-terminated, nothing sent
 * to the console. */
static void vsprint_into_a_buffer(void)
{
    InitializeLib(NULL, &system_table);
    CHAR16 buf[32];
    for (size_t i = 0; i < 32; i++)
        buf[i] = 0xcccc;
    CHECK_EQ_U64(vsprint(buf, sizeof(buf), "read %a: %u bytes at 0x%lx", (CHAR8 *)"x.elf", 42u,
                         0x1000ull), 30);
    CHECK(wide_is(buf, "read x.elf: 42 bytes at 0x1000"));
    CHECK_EQ_U64(calls, 0);
    for (size_t i = 0; i < 32; i++)
        buf[i] = 0xcccc;
    CHECK_EQ_U64(vsprint(buf, 8 * sizeof(CHAR16), "%s and more", L"truncated"), 7);
    CHECK(wide_is(buf, "truncat"));
    CHECK(buf[8] == 0xcccc); /* nothing past the size given */
    CHECK_EQ_U64(vsprint(buf, sizeof(CHAR16), "abc"), 0);
    CHECK(buf[0] == 0);
    CHECK_EQ_U64(vsprint(buf, 0, "abc"), 0);
}

int main(void)
{
    check_suite = "efi_print";
    RUN_TEST(conversions);
    RUN_TEST(long_output_in_chunks);
    RUN_TEST(guids);
    RUN_TEST(vsprint_into_a_buffer);
    return check_finish();
}
