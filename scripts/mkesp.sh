#!/usr/bin/env bash
# Builds an ESP: a folder tree (optional) and a FAT image made with mtools:
#   EFI/BOOT/BOOTX64.EFI, images/<guest files>, and hv.cfg if given.
# The ESP is a real PC's: at the end of the run hv halts with the summary on
# screen ("safe to power off now"), or powers off if hv.cfg says
# power_off_at_end = yes. scripts/hv-qemu adds qemu_exit_port to its own
# copy; a real PC's hv.cfg must not have it (mkesp refuses it).
set -euo pipefail

efi= images= cfg= tree= out=
while [ $# -gt 0 ]; do
    case "$1" in
        --efi) efi=$2; shift 2 ;;
        --images) images=$2; shift 2 ;;
        --cfg) cfg=$2; shift 2 ;;
        --tree) tree=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "mkesp: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$efi" ] && [ -n "$out" ] || { echo "mkesp: --efi and --out are required" >&2; exit 2; }
if [ -n "$cfg" ] && grep -qE '^[[:space:]]*qemu_exit_port[[:space:]]*=' "$cfg"; then
    echo "mkesp: $cfg sets qemu_exit_port, the QEMU runner's own setting (scripts/hv-qemu" \
         "adds it to its copy); on a real PC hv would write to that I/O port. Remove it." >&2
    exit 2
fi

files=()
if [ -n "$images" ] && [ -d "$images" ]; then
    while IFS= read -r -d '' f; do files+=("$f"); done \
        < <(find "$images" -maxdepth 1 -type f ! -name '.*' -print0 | sort -z)
fi

if [ -n "$tree" ]; then
    rm -rf "$tree"
    mkdir -p "$tree/EFI/BOOT" "$tree/images"
    cp "$efi" "$tree/EFI/BOOT/BOOTX64.EFI"
    [ ${#files[@]} -gt 0 ] && cp "${files[@]}" "$tree/images/"
    [ -n "$cfg" ] && cp "$cfg" "$tree/hv.cfg"
fi

# Room for everything twice over plus FAT overhead; at least 16 MiB.
bytes=$(cat "$efi" "${files[@]}" ${cfg:+"$cfg"} | wc -c)
mib=$(( bytes * 2 / 1048576 + 16 ))
rm -f "$out"
truncate -s "${mib}M" "$out"
export MTOOLS_SKIP_CHECK=1
mformat -i "$out" -v HV-ESP ::
mmd -i "$out" ::/EFI ::/EFI/BOOT ::/images
mcopy -i "$out" "$efi" ::/EFI/BOOT/BOOTX64.EFI
[ ${#files[@]} -gt 0 ] && mcopy -i "$out" "${files[@]}" ::/images/
[ -n "$cfg" ] && mcopy -i "$out" "$cfg" ::/hv.cfg
exit 0
