#!/usr/bin/env bash
# Writes hv's disk image (make disk-image: build/hv-usb.img) to a USB stick,
# after making sure the device is one that may be erased:
#
#   scripts/write-usb.sh --image build/hv-usb.img --dev /dev/sdX [--yes] [--dry-run]
#
# It refuses a device that is not a whole disk, not removable, mounted, used
# as swap or by device-mapper/RAID, holding the running system, or smaller
# than the image. It says what it is about to erase (model, size,
# partitions) and asks; --yes (make usb YES=1) skips the question. It writes
# with dd (conv=fsync), reads the device back and compares, then moves the
# GPT's backup copy to the device's real end (sgdisk -e) and checks the
# table (sgdisk --verify).
#
# For tests without a real device (tests/tools/test-write-usb.sh):
#   --sys DIR      read DIR/block/... instead of /sys/block/... ; --dev may
#                  then be a regular file standing in for the device
#   --mounts FILE  instead of /proc/self/mounts
#   --swaps FILE   instead of /proc/swaps
# Exit status: 0 written and verified (or dry run passed), 1 refused or
# failed, 2 usage.
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin

image= dev= yes=0 dry_run=0 sys=/sys mounts=/proc/self/mounts swaps=/proc/swaps test_mode=0
while [ $# -gt 0 ]; do
    case "$1" in
        --image) image=$2; shift 2 ;;
        --dev) dev=$2; shift 2 ;;
        --yes) yes=1; shift ;;
        --dry-run) dry_run=1; shift ;;
        --sys) sys=$2; test_mode=1; shift 2 ;;
        --mounts) mounts=$2; shift 2 ;;
        --swaps) swaps=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "write-usb: unknown option $1" >&2; exit 2 ;;
    esac
done
usage() { echo "write-usb: $*" >&2; echo "usage: make usb DEV=/dev/sdX [YES=1]   (lsblk lists the devices)" >&2; exit 2; }
refuse() { echo "write-usb: refusing $dev: $*" >&2; exit 1; }
[ -n "$image" ] && [ -f "$image" ] || usage "no image ${image:-given} (make disk-image writes build/hv-usb.img)"
[ -n "$dev" ] || usage "say which device: DEV=/dev/sdX"
[ -e "$dev" ] || usage "$dev does not exist"

# --- which disk is it --------------------------------------------------------
if [ -b "$dev" ]; then
    name=$(basename "$(readlink -f "$dev")") # /dev/disk/by-id/usb-... names it too
elif [ -f "$dev" ] && [ "$test_mode" = 1 ]; then
    name=$(basename "$dev")
else
    refuse "not a block device"
fi
disk=$sys/block/$name
if [ ! -d "$disk" ]; then
    [ -e "$sys/class/block/$name/partition" ] && refuse "it is a partition; give the whole disk (e.g. /dev/sdb, not /dev/sdb1)"
    refuse "no $disk: not a whole disk"
fi

sectors() { cat "$1/size" 2>/dev/null || echo 0; } # sysfs counts 512-byte sectors
mib() { echo "$(( $1 / 1048576 )) MiB"; }
partitions=()
for p in "$disk"/*/; do
    p=${p%/}
    [ -f "$p/partition" ] && partitions+=("$(basename "$p")")
done

# --- is it in use ---------------------------------------------------------------
# The disks under a device: itself, or for device-mapper/RAID (dm-0, md0) the
# disks its slaves sit on, followed down.
disks_under() {
    local n=$1 depth=${2:-0} s parent
    [ "$depth" -gt 8 ] && return
    if [ -d "$sys/block/$n/slaves" ] && [ -n "$(ls -A "$sys/block/$n/slaves" 2>/dev/null)" ]; then
        for s in "$sys/block/$n/slaves"/*; do disks_under "$(basename "$s")" $((depth + 1)); done
    elif [ -d "$sys/block/$n" ]; then
        echo "$n"
    else
        for parent in "$sys"/block/*; do
            [ -d "$parent/$n" ] && echo "$(basename "$parent")"
        done
    fi
}
# Mount sources as kernel names: /dev/sdb1 -> sdb1; /dev/mapper/x -> dm-0.
mount_source_name() {
    local src=$1
    case "$src" in /dev/*) ;; *) return ;; esac
    [ "$test_mode" = 0 ] && [ -e "$src" ] && src=$(readlink -f "$src")
    basename "$src"
}

root_src=$(awk '$2 == "/" { src = $1 } END { print src }' "$mounts")
root_name=$(mount_source_name "$root_src")
if [ -n "$root_name" ]; then
    for d in $(disks_under "$root_name"); do
        [ "$d" = "$name" ] && refuse "it holds the running system (/ is on $root_src)"
    done
fi
for n in "$name" "${partitions[@]}"; do
    while read -r src mnt _; do
        [ "$(mount_source_name "$src")" = "$n" ] && refuse "/dev/$n is mounted on $mnt (unmount it first: udisksctl unmount -b /dev/$n)"
    done < "$mounts"
    if [ -f "$swaps" ] && awk -v d="/dev/$n" 'NR > 1 && $1 == d { found = 1 } END { exit !found }' "$swaps"; then
        refuse "/dev/$n is in use as swap"
    fi
    h=$disk/holders; [ "$n" != "$name" ] && h=$disk/$n/holders
    if [ -d "$h" ] && [ -n "$(ls -A "$h" 2>/dev/null)" ]; then
        refuse "/dev/$n is in use by $(ls "$h" | tr '\n' ' ')(LVM, encryption or RAID)"
    fi
done

removable=$(cat "$disk/removable" 2>/dev/null || echo "?")
[ "$removable" = 1 ] || refuse "it is not removable ($disk/removable is $removable): hv writes only to removable devices such as USB sticks. A USB disk that reports itself fixed can be written with dd by hand (docs/real-hardware.md)"

image_bytes=$(stat -c %s "$image")
dev_bytes=$(( $(sectors "$disk") * 512 ))
[ "$dev_bytes" -ge "$image_bytes" ] || refuse "it is smaller ($(mib "$dev_bytes")) than the image ($(mib "$image_bytes"))"

# --- say what will be erased ------------------------------------------------------
model=$(cat "$disk/device/vendor" "$disk/device/model" 2>/dev/null | tr -s ' \n' ' ' | sed 's/ $//')
echo "write-usb: about to ERASE $dev (${model:-unknown model}, $(mib "$dev_bytes"))"
if [ ${#partitions[@]} -eq 0 ]; then
    echo "  no partitions"
else
    for p in "${partitions[@]}"; do echo "  partition $p: $(mib $(( $(sectors "$disk/$p") * 512 )))"; done
fi
if [ "$test_mode" = 0 ] && command -v lsblk >/dev/null; then
    lsblk -o NAME,SIZE,FSTYPE,LABEL "$dev" 2>/dev/null | sed 's/^/  /' || true
fi
echo "  and write $image ($(mib "$image_bytes")) to it"

if [ "$dry_run" = 1 ]; then
    echo "write-usb: dry run: every check passed; nothing written"
    exit 0
fi
if [ "$yes" != 1 ]; then
    [ -t 0 ] || refuse "no terminal to ask on; say YES=1 (make usb) or --yes to confirm"
    read -r -p "Type 'yes' to erase $dev: " answer
    [ "$answer" = yes ] || { echo "write-usb: nothing written"; exit 1; }
fi

# --- write, read back, fix the backup GPT ----------------------------------------
run=()
[ -w "$dev" ] || run=(sudo)
progress=none; [ -t 2 ] && progress=progress
"${run[@]}" dd if="$image" of="$dev" bs=4M conv=fsync,notrunc status=$progress
if [ -b "$dev" ]; then
    # Read the medium, not the page cache of what was just written.
    "${run[@]}" blockdev --flushbufs "$dev"
    cmp_ok() { "${run[@]}" dd if="$dev" bs=1M count=$(( image_bytes / 1048576 )) iflag=direct status=none | cmp -s - "$image"; }
else
    cmp_ok() { cmp -s -n "$image_bytes" "$dev" "$image"; }
fi
cmp_ok || { echo "write-usb: $dev reads back different from $image: the stick may be faulty" >&2; exit 1; }
echo "write-usb: written and read back: identical"
if [ "$dev_bytes" -gt "$image_bytes" ]; then
    # The image's backup GPT sits at the image's end; put it at the disk's.
    "${run[@]}" sgdisk -e "$dev" >/dev/null
fi
"${run[@]}" sgdisk --verify "$dev" | grep -q 'No problems found' || { echo "write-usb: sgdisk --verify finds problems on $dev" >&2; exit 1; }
[ -b "$dev" ] && { "${run[@]}" blockdev --rereadpt "$dev" 2>/dev/null || true; }
echo "write-usb: done: $dev holds hv; eject it and boot a PC from it (docs/real-hardware.md)"
