/* Reading the ESP hv was loaded from: the optional \hv.cfg and every file of
 * \images. Nothing is interpreted here; validating images is the loader's
 * job once the core runs. Problems are recorded per file in the handoff so
 * the core can name them in its log, which is the one a user reads. */
#include "efi/stub.h"

/* Larger files are refused rather than read: a guest image of this size is a
 * mistake, and reading it could starve the rest of memory. */
#define MAX_IMAGE_BYTES (256ULL << 20)
#define MAX_CONFIG_BYTES (64ULL << 10)

static EFI_FILE_HANDLE open_esp_root(EFI_HANDLE image)
{
    EFI_LOADED_IMAGE *loaded = NULL;
    if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, STUB_GUID(stub_loaded_image_guid),
                                    (void **)&loaded)) || !loaded)
        return NULL;
    return LibOpenRoot(loaded->DeviceHandle);
}

/* Reads a whole file into fresh loader-data pages (so the core keeps it).
 * Only the last page's tail is zeroed: a read that fills fewer than `size`
 * bytes frees the pages (a 99.5 KB image's 25 pages zeroed first cost
 * 12,400 instructions of boot_first_guest, 0.4 M of boot_32_guests). */
static uint32_t read_whole_file(EFI_FILE_HANDLE f, uint64_t size, uint64_t *phys)
{
    UINTN pages = (size + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE;
    if (pages == 0)
        pages = 1;
    void *buf = stub_alloc_pages_from(pages, size);
    if (!buf)
        return HANDOFF_FILE_NO_MEMORY;
    UINTN got = size;
    EFI_STATUS st = uefi_call_wrapper(f->Read, 3, f, &got, buf);
    if (EFI_ERROR(st) || got != size) {
        uefi_call_wrapper(BS->FreePages, 2, (EFI_PHYSICAL_ADDRESS)buf, pages);
        return HANDOFF_FILE_READ_ERROR;
    }
    *phys = (uint64_t)buf;
    return HANDOFF_FILE_OK;
}

static bool to_ascii_name(const CHAR16 *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i]; i++) {
        if (i + 1 >= cap || in[i] < 0x20 || in[i] > 0x7e) {
            /* Keep a readable prefix for the error message. */
            out[i < cap ? i : cap - 1] = '\0';
            return false;
        }
        out[i] = (char)in[i];
    }
    out[i] = '\0';
    return true;
}

static int name_compare(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

static void swap_files(struct handoff_file *a, struct handoff_file *b)
{
    struct handoff_file t = *a;
    *a = *b;
    *b = t;
}

/* Heapsort: O(n log n) in place, for a folder of any size. */
static void sift_down(struct handoff_file *f, uint32_t root, uint32_t n)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && name_compare(f[child].name, f[child + 1].name) < 0)
            child++;
        if (name_compare(f[root].name, f[child].name) >= 0)
            return;
        swap_files(&f[root], &f[child]);
        root = child;
    }
}

static void sort_files_by_name(struct handoff_file *f, uint32_t n)
{
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(f, i, n);
    for (uint32_t end = n; end-- > 1;) {
        swap_files(&f[0], &f[end]);
        sift_down(f, 0, end);
    }
}

static void read_config(EFI_FILE_HANDLE root, struct handoff *h)
{
    EFI_FILE_HANDLE f = NULL;
    if (EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &f, L"\\hv.cfg", EFI_FILE_MODE_READ, 0)))
        return;
    EFI_FILE_INFO *info = LibFileInfo(f);
    if (info) {
        if (info->FileSize > MAX_CONFIG_BYTES) {
            h->config_too_large = true;
        } else {
            uint64_t phys = 0;
            if (read_whole_file(f, info->FileSize, &phys) == HANDOFF_FILE_OK) {
                h->config_phys = phys;
                h->config_size = info->FileSize;
            }
        }
        FreePool(info);
    }
    uefi_call_wrapper(f->Close, 1, f);
}

static void read_one_image(EFI_FILE_HANDLE dir, const EFI_FILE_INFO *entry, struct handoff_file *out)
{
    if (!to_ascii_name(entry->FileName, out->name, sizeof(out->name))) {
        out->status = HANDOFF_FILE_BAD_NAME;
        return;
    }
    out->size = entry->FileSize;
    if (entry->FileSize > MAX_IMAGE_BYTES) {
        out->status = HANDOFF_FILE_TOO_LARGE;
        return;
    }
    EFI_FILE_HANDLE f = NULL;
    if (EFI_ERROR(uefi_call_wrapper(dir->Open, 5, dir, &f, (CHAR16 *)entry->FileName,
                                    EFI_FILE_MODE_READ, 0))) {
        out->status = HANDOFF_FILE_READ_ERROR;
        return;
    }
    out->status = read_whole_file(f, entry->FileSize, &out->phys);
    uefi_call_wrapper(f->Close, 1, f);
}

/* Calls `each` for every plain file of `dir` from its start; returns how
 * many there were. */
static uint32_t for_each_file(EFI_FILE_HANDLE dir, EFI_FILE_INFO *entry, UINTN buf_size,
                              void (*each)(void *arg, EFI_FILE_HANDLE dir,
                                           const EFI_FILE_INFO *entry),
                              void *arg)
{
    uint32_t n = 0;
    uefi_call_wrapper(dir->SetPosition, 2, dir, 0);
    for (;;) {
        UINTN size = buf_size;
        EFI_STATUS st = uefi_call_wrapper(dir->Read, 3, dir, &size, entry);
        if (EFI_ERROR(st) || size == 0)
            break; /* end of directory, or an entry with an absurdly long name */
        if (entry->Attribute & EFI_FILE_DIRECTORY)
            continue;
        if (each)
            each(arg, dir, entry);
        if (n < UINT32_MAX)
            n++;
    }
    return n;
}

struct reading {
    struct handoff *h;
    struct handoff_file *table;
    uint32_t room;
};

static void read_listed(void *arg, EFI_FILE_HANDLE dir, const EFI_FILE_INFO *entry)
{
    struct reading *r = arg;
    if (r->h->file_count == r->room) {
        r->h->files_skipped++; /* the folder grew since it was counted */
        return;
    }
    read_one_image(dir, entry, &r->table[r->h->file_count++]);
}

static void read_images(EFI_FILE_HANDLE root, struct handoff *h)
{
    EFI_FILE_HANDLE dir = NULL;
    if (EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &dir, L"\\images", EFI_FILE_MODE_READ, 0)))
        return;
    h->images_dir_found = true;

    /* Directory reads return one EFI_FILE_INFO each; names may be long. */
    UINTN buf_size = SIZE_OF_EFI_FILE_INFO + 512 * sizeof(CHAR16);
    EFI_FILE_INFO *entry = AllocatePool(buf_size);
    if (!entry) {
        uefi_call_wrapper(dir->Close, 1, dir);
        return;
    }
    /* Counted first, so the table is as large as the folder needs: how
     * many guests a PC runs is up to its memory. */
    uint32_t found = for_each_file(dir, entry, buf_size, NULL, NULL);
    uint64_t bytes = (uint64_t)found * sizeof(struct handoff_file);
    struct handoff_file *table =
        found ? stub_alloc_pages((bytes + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE) : NULL;
    if (found && !table) {
        h->files_skipped = found;
    } else if (found) {
        struct reading r = {h, table, found};
        for_each_file(dir, entry, buf_size, read_listed, &r);
        sort_files_by_name(table, h->file_count);
        h->files_phys = (uint64_t)table;
    }
    FreePool(entry);
    uefi_call_wrapper(dir->Close, 1, dir);
}

void stub_read_esp(EFI_HANDLE image, struct handoff *h)
{
    EFI_FILE_HANDLE root = open_esp_root(image);
    if (!root) {
        stub_note("cannot open hv's volume: no config, no images");
        return;
    }
    read_config(root, h);
    read_images(root, h);
    uefi_call_wrapper(root->Close, 1, root);
    stub_note("read %u file(s) from \\images%a", h->file_count,
          h->images_dir_found ? "" : " (folder missing)");
    if (h->files_skipped)
        stub_note("%u more file(s) in \\images not read: out of memory",
              h->files_skipped);
}
