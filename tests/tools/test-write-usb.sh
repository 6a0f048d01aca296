#!/usr/bin/env bash
# Host test of scripts/write-usb.sh (make usb) without a real device: a fake
# /sys tree (--sys), fake mount and swap tables, and a regular file standing
# in for the stick. Every refusal must leave the "stick" untouched; the one
# accepted write must leave the image on it and a valid GPT whose backup copy
# sits at the stick's end. Prints "PASS usb/CASE" or "FAIL usb/CASE: why".
set -u
PATH=$PATH:/usr/sbin:/sbin
script=$(cd "$(dirname "$0")/../.." && pwd)/scripts/write-usb.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/hv-write-usb-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0

# A small real GPT disk image: 4 MiB, one EFI system partition.
image=$work/hv-usb.img
truncate -s 4M "$image"
sgdisk --clear --new=1:2048:+2M --typecode=1:EF00 "$image" >/dev/null
printf 'hv test payload' | dd of="$image" bs=1 seek=$((2048 * 512)) conv=notrunc status=none

STICK_MIB=8
# A fresh fake world: /sys/block/sdz (removable, 8 MiB, two partitions), empty
# mount and swap tables, and the stick file full of old data.
setup() {
    rm -rf "$work/sys" "$work/dev"
    mkdir -p "$work/sys/block/sdz/device" "$work/sys/block/sdz/holders" "$work/dev"
    echo 1 > "$work/sys/block/sdz/removable"
    echo $((STICK_MIB * 2048)) > "$work/sys/block/sdz/size"
    echo "ACME    " > "$work/sys/block/sdz/device/vendor"
    echo "Stick 3000" > "$work/sys/block/sdz/device/model"
    for p in 1 2; do
        mkdir -p "$work/sys/block/sdz/sdz$p/holders" "$work/sys/class/block/sdz$p"
        echo $p > "$work/sys/block/sdz/sdz$p/partition"
        echo $p > "$work/sys/class/block/sdz$p/partition"
        echo 4096 > "$work/sys/block/sdz/sdz$p/size"
    done
    printf '/dev/vda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n' > "$work/mounts"
    printf 'Filename\tType\tSize\tUsed\tPriority\n' > "$work/swaps"
    head -c $((STICK_MIB * 1048576)) /dev/zero | tr '\0' 'x' > "$work/dev/sdz"
    cp "$work/dev/sdz" "$work/stick.before"
}

run() { # run CASE ARGS...: runs the script on the fake stick; output in $out, status in $rc
    out=$("$script" --image "$image" --sys "$work/sys" --mounts "$work/mounts" \
        --swaps "$work/swaps" "$@" 2>&1 < /dev/null)
    rc=$?
}
result() { # result CASE OK WHY
    if [ "$2" = 0 ]; then echo "PASS usb/$1"; else echo "FAIL usb/$1: $3"; echo "$out" | sed 's/^/    /'; failed=1; fi
}
expect_refusal() { # expect_refusal CASE "text in the message" ARGS...
    local name=$1 text=$2; shift 2
    run "$@"
    if [ "$rc" != 1 ]; then result "$name" 1 "exit status $rc, expected 1"
    elif ! grep -qF -- "$text" <<<"$out"; then result "$name" 1 "no '$text' in the message"
    elif ! cmp -s "$work/dev/sdz" "$work/stick.before"; then result "$name" 1 "the stick was written"
    else result "$name" 0 ""; fi
}

setup; echo 0 > "$work/sys/block/sdz/removable"
expect_refusal refuses_fixed_disk "is not removable" --dev "$work/dev/sdz" --yes

setup; cp "$work/dev/sdz" "$work/dev/sdz1"
expect_refusal refuses_partition "it is a partition" --dev "$work/dev/sdz1" --yes

setup; echo '/dev/sdz1 /media/user/STICK vfat rw 0 0' >> "$work/mounts"
expect_refusal refuses_mounted_partition "/dev/sdz1 is mounted on /media/user/STICK" --dev "$work/dev/sdz" --yes

setup; echo '/dev/sdz /mnt/raw ext4 rw 0 0' >> "$work/mounts"
expect_refusal refuses_mounted_whole_disk "/dev/sdz is mounted on /mnt/raw" --dev "$work/dev/sdz" --yes

setup; printf '/dev/sdz2 / ext4 rw 0 0\n' > "$work/mounts"
expect_refusal refuses_running_system "holds the running system (/ is on /dev/sdz2)" --dev "$work/dev/sdz" --yes

# / on LVM or dm-crypt: dm-0 whose slave is sdz2.
setup; mkdir -p "$work/sys/block/dm-0/slaves/sdz2"; printf '/dev/dm-0 / ext4 rw 0 0\n' > "$work/mounts"
expect_refusal refuses_running_system_under_dm "holds the running system (/ is on /dev/dm-0)" --dev "$work/dev/sdz" --yes

setup; printf '/dev/sdz2 partition 1024 0 -2\n' >> "$work/swaps"
expect_refusal refuses_swap "/dev/sdz2 is in use as swap" --dev "$work/dev/sdz" --yes

setup; mkdir -p "$work/sys/block/sdz/sdz1/holders/dm-3"
expect_refusal refuses_partition_held_by_dm "/dev/sdz1 is in use by dm-3" --dev "$work/dev/sdz" --yes

setup; echo 4096 > "$work/sys/block/sdz/size"
expect_refusal refuses_too_small "smaller (2 MiB) than the image (4 MiB)" --dev "$work/dev/sdz" --yes

setup
expect_refusal refuses_without_confirmation "say YES=1" --dev "$work/dev/sdz"

# A regular file is a stand-in only with a fake /sys: never on a real system.
setup; out=$("$script" --image "$image" --dev "$work/dev/sdz" --yes 2>&1 < /dev/null); rc=$?
if [ "$rc" = 1 ] && grep -qF "not a block device" <<<"$out" && cmp -s "$work/dev/sdz" "$work/stick.before"; then
    result refuses_regular_file_on_real_sys 0 ""
else
    result refuses_regular_file_on_real_sys 1 "status $rc or the file was written"
fi

setup; run --dev "$work/dev/sdz" --dry-run
if [ "$rc" = 0 ] && grep -qF "about to ERASE $work/dev/sdz (ACME Stick 3000, 8 MiB)" <<<"$out" &&
    grep -qF "partition sdz1: 2 MiB" <<<"$out" && grep -qF "partition sdz2: 2 MiB" <<<"$out" &&
    grep -qF "nothing written" <<<"$out" && cmp -s "$work/dev/sdz" "$work/stick.before"; then
    result dry_run_describes_and_writes_nothing 0 ""
else
    result dry_run_describes_and_writes_nothing 1 "status $rc, description or untouched stick missing"
fi

# The accepted write: the image's partition on the stick byte for byte, a
# table that checks out, and the backup GPT moved to the stick's last sectors.
setup; run --dev "$work/dev/sdz" --yes
size=$(stat -c %s "$image")
why=""
[ "$rc" = 0 ] || why="exit status $rc"
# sgdisk -e rewrote the GPT headers; the partition's bytes are the image's.
[ -z "$why" ] && ! cmp -s -i 1048576 -n $((size - 2 * 1048576)) "$image" "$work/dev/sdz" && why="the partition's bytes differ from the image's"
[ -z "$why" ] && ! sgdisk --info=1 "$work/dev/sdz" | grep -q "First sector: 2048 " && why="partition 1 is not at sector 2048"
[ -z "$why" ] && ! sgdisk --verify "$work/dev/sdz" | grep -q 'No problems found' && why="sgdisk --verify finds problems"
[ -z "$why" ] && [ "$(stat -c %s "$work/dev/sdz")" != $((STICK_MIB * 1048576)) ] && why="the stick file changed size"
[ -z "$why" ] && ! sgdisk --print "$work/dev/sdz" | grep -q "last usable sector is $((STICK_MIB * 2048 - 34))" && why="the backup GPT is not at the stick's end"
[ -z "$why" ] && ! grep -qF "read back: identical" <<<"$out" && why="no read-back line"
result writes_verifies_and_moves_backup_gpt "$([ -z "$why" ] && echo 0 || echo 1)" "$why"

exit $failed
