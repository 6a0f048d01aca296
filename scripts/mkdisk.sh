#!/usr/bin/env bash
# Builds a whole-disk image for a USB stick: a GPT with one FAT32 EFI system
# partition holding the files of an ESP tree (what scripts/mkesp.sh --tree
# writes: EFI/BOOT/BOOTX64.EFI, images/, hv.cfg). `dd` puts it on a stick;
# scripts/write-usb.sh does that with checks.
#
#   scripts/mkdisk.sh --tree build/esp --out build/hv-usb.img
#
# Real tools only (sgdisk, mkfs.fat, mtools): no loop mounts, no root. What
# was written is read back and compared before the script says it is done.
set -euo pipefail

tree= out=
while [ $# -gt 0 ]; do
    case "$1" in
        --tree) tree=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "mkdisk: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$tree" ] && [ -n "$out" ] || { echo "mkdisk: --tree DIR and --out FILE are required" >&2; exit 2; }
[ -f "$tree/EFI/BOOT/BOOTX64.EFI" ] || { echo "mkdisk: $tree/EFI/BOOT/BOOTX64.EFI missing (run make first)" >&2; exit 2; }
for tool in sgdisk mkfs.fat fsck.fat mcopy mmd; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
    command -v "$tool" >/dev/null || { echo "mkdisk: $tool missing: run make deps" >&2; exit 2; }
done

# FAT32 proper needs at least 65525 clusters (fewer and every reader takes
# the volume for FAT16, whatever mkfs wrote); with the 512-byte clusters
# mkfs.fat picks for small volumes, 64 MiB leaves ample margin. Bigger
# trees get room for their files twice over.
MIN_ESP_MIB=64
ALIGN_MIB=1 # the partition starts at 1 MiB (LBA 2048), as partitioners do
bytes=$(find "$tree" -type f -print0 | du -cb --files0-from=- | tail -n 1 | cut -f1)
esp_mib=$(( bytes * 2 / 1048576 + 16 ))
[ "$esp_mib" -lt "$MIN_ESP_MIB" ] && esp_mib=$MIN_ESP_MIB
# Room after the partition for the backup GPT (33 sectors), rounded to 1 MiB.
disk_mib=$(( ALIGN_MIB + esp_mib + 1 ))

work=$(mktemp -d "${TMPDIR:-/tmp}/hv-mkdisk.XXXXXX")
trap 'rm -rf "$work"' EXIT
part=$work/esp.fat
export MTOOLS_SKIP_CHECK=1

# The filesystem first, in a file of its own, filled with mtools.
mkfs.fat -F 32 -n HV-ESP -C "$part" $(( esp_mib * 1024 )) >/dev/null
(
    cd "$tree"
    find . -mindepth 1 -type d | sort | while IFS= read -r d; do mmd -i "$part" "::/${d#./}"; done
    find . -type f | sort | while IFS= read -r f; do mcopy -i "$part" "$f" "::/${f#./}"; done
)

# Then the disk: a GPT with one EFI system partition (type EF00), and the
# filesystem copied into it.
rm -f "$out"
truncate -s "${disk_mib}M" "$out"
sgdisk --clear --new=1:$(( ALIGN_MIB * 2048 )):+${esp_mib}M --typecode=1:EF00 \
    --change-name=1:"hv EFI system partition" "$out" >/dev/null
dd if="$part" of="$out" bs=1M seek="$ALIGN_MIB" conv=notrunc status=none

# --- verify what was written ---------------------------------------------------
fail() { echo "mkdisk: verification failed: $*" >&2; rm -f "$out"; exit 1; }
sgdisk --verify "$out" | grep -q 'No problems found' || fail "sgdisk --verify reports problems"
info=$(sgdisk --info=1 "$out")
grep -q 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B' <<<"$info" || fail "partition 1 is not an EFI system partition"
first=$(sed -nE 's/^First sector: ([0-9]+).*/\1/p' <<<"$info")
[ "$first" = $(( ALIGN_MIB * 2048 )) ] || fail "partition 1 starts at sector $first"
fs="$out@@$(( first * 512 ))"
fat_type=$(dd if="$out" bs=1 skip=$(( first * 512 + 82 )) count=8 status=none)
[ "$fat_type" = "FAT32   " ] || fail "the partition's boot sector says '$fat_type', not FAT32"
dd if="$out" bs=512 skip="$first" count=$(( esp_mib * 2048 )) status=none > "$work/readback.fat"
fsck.fat -n "$work/readback.fat" >/dev/null 2>&1 || fail "fsck.fat finds errors in the filesystem"
# Every file of the tree, byte for byte, and nothing else on the volume.
(cd "$tree" && find . -type f | sed 's|^\./||' | sort) > "$work/want"
mdir -i "$fs" -/ -b :: | sed -nE 's|^::/||p' | while IFS= read -r p; do
    # mdir -b lists folders too; keep files only.
    [ -d "$tree/$p" ] || echo "$p"
done | sort > "$work/have"
cmp -s "$work/want" "$work/have" || fail "the volume's files differ from $tree: $(diff "$work/want" "$work/have" | tr '\n' ' ')"
while IFS= read -r p; do
    mcopy -n -i "$fs" "::/$p" "$work/file" && cmp -s "$work/file" "$tree/$p" || fail "$p reads back different"
done < "$work/want"

echo "mkdisk: $out: ${disk_mib} MiB, GPT, FAT32 ESP of ${esp_mib} MiB with $(wc -l < "$work/want") file(s), read back and identical"
