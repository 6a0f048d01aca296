#!/usr/bin/env bash
# Host test of scripts/mkdisk.sh (make disk-image): the disk it writes is a
# GPT with one EFI system partition at 1 MiB holding a FAT32 volume that
# really is FAT32 (at least 65525 clusters: fewer and firmware reads it as
# FAT16), with the tree's files byte for byte; it grows with the files; and
# it refuses a tree without hv. Prints "PASS usb/CASE" or "FAIL usb/CASE: why".
set -u
PATH=$PATH:/usr/sbin:/sbin
export MTOOLS_SKIP_CHECK=1
mkdisk=$(cd "$(dirname "$0")/../.." && pwd)/scripts/mkdisk.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/hv-mkdisk-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
result() { # result CASE WHY (empty: pass)
    if [ -z "$2" ]; then echo "PASS usb/$1"; else echo "FAIL usb/$1: $2"; failed=1; fi
}
le() { # le FILE OFFSET BYTES: little-endian unsigned integer
    od -An -t u$3 -j "$2" -N "$3" --endian=little "$1" | tr -d ' '
}

tree=$work/esp
mkdir -p "$tree/EFI/BOOT" "$tree/images"
head -c 300000 /dev/urandom > "$tree/EFI/BOOT/BOOTX64.EFI"
head -c 100000 /dev/urandom > "$tree/images/hello"
head -c 5000 /dev/urandom > "$tree/images/a-long-guest-name.elf"
printf '[hv]\nhalt_at_end = yes\n' > "$tree/hv.cfg"

img=$work/disk.img
out=$("$mkdisk" --tree "$tree" --out "$img" 2>&1); rc=$?
why=""
[ "$rc" = 0 ] || why="exit status $rc: $out"
if [ -z "$why" ]; then
    info=$(sgdisk --info=1 "$img")
    grep -q 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B' <<<"$info" || why="partition 1 is not an EFI system partition"
    grep -q 'First sector: 2048 ' <<<"$info" || why="partition 1 does not start at 1 MiB"
    [ "$(sgdisk --print "$img" | grep -c '^ *[0-9]\+ \+[0-9]')" = 1 ] || why="not exactly one partition"
fi
result gpt_with_one_esp_at_1mib "$why"

why=""
part=$work/part.fat
dd if="$img" of="$part" bs=1M skip=1 status=none
bytes_per_sector=$(le "$part" 11 2)
per_cluster=$(le "$part" 13 1)
reserved=$(le "$part" 14 2)
fats=$(le "$part" 16 1)
total=$(le "$part" 32 4)
fat_size=$(le "$part" 36 4)
root_entries=$(le "$part" 17 2)
clusters=$(( (total - reserved - fats * fat_size) / per_cluster ))
[ "$(dd if="$part" bs=1 skip=82 count=8 status=none)" = "FAT32   " ] || why="boot sector does not say FAT32"
[ "$root_entries" = 0 ] || why="root directory entries $root_entries (FAT32 has none)"
[ "$bytes_per_sector" = 512 ] || why="sector size $bytes_per_sector"
[ "$clusters" -ge 65525 ] || why="$clusters clusters: fewer than 65525 make it FAT16 to every reader"
fsck.fat -n "$part" >/dev/null 2>&1 || why="fsck.fat finds errors"
result volume_is_fat32_for_real "$why"

why=""
for f in EFI/BOOT/BOOTX64.EFI images/hello images/a-long-guest-name.elf hv.cfg; do
    mcopy -n -i "$img@@1M" "::/$f" "$work/back" 2>/dev/null && cmp -s "$work/back" "$tree/$f" || why="$f does not read back identical"
done
result files_read_back_identical "$why"

# Room for the files twice over once they outgrow the 64 MiB minimum.
why=""
head -c $((40 * 1048576)) /dev/zero > "$tree/images/big"
out=$("$mkdisk" --tree "$tree" --out "$work/big.img" 2>&1) || why="exit status $?: $out"
if [ -z "$why" ]; then
    sectors=$(sgdisk --info=1 "$work/big.img" | sed -nE 's/^Partition size: ([0-9]+) sectors.*/\1/p')
    [ "$sectors" -ge $((80 * 2048)) ] || why="partition of $sectors sectors for 40 MiB of files"
fi
rm -f "$tree/images/big" "$work/big.img"
result grows_with_the_files "$why"

why=""
rm "$tree/EFI/BOOT/BOOTX64.EFI"
if out=$("$mkdisk" --tree "$tree" --out "$work/none.img" 2>&1); then why="accepted a tree without BOOTX64.EFI"
elif ! grep -q "BOOTX64.EFI missing" <<<"$out"; then why="no reason given: $out"
elif [ -e "$work/none.img" ]; then why="left an image behind"; fi
result refuses_tree_without_hv "$why"

exit $failed
