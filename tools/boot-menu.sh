#!/bin/sh
# tools/boot-menu.sh - the boot menu, from one list, as GRUB's grub.cfg (the
# ISO, and network boot on UEFI) or as an iPXE script (network boot: BIOS
# boots the ELF from an iPXE menu, UEFI chains GRUB).
#
#   tools/boot-menu.sh grub|ipxe DEFAULT TIMEOUT NAME ARGS [NAME ARGS ...]
#
# Each entry is a NAME and the kernel command line ARGS it boots; DEFAULT
# names the entry that boots after TIMEOUT seconds (0: at once). The
# Makefile passes BOOT_ENTRIES, BOOT_<name>, BOOT_DEFAULT and BOOT_TIMEOUT.
# Both outputs expect the tree the ISO and `make netboot` share:
# /boot/ixmetal.elf and /boot/grub/ (GRUB's, with x86_64-efi/core.efi for
# network boot), /boot.ipxe at the top.
set -eu

usage() {
    echo "usage: $0 grub|ipxe DEFAULT TIMEOUT NAME ARGS [NAME ARGS ...]" >&2
    exit 2
}
[ $# -ge 5 ] && [ $(($# % 2)) -eq 1 ] || usage
format=$1 default=$2 timeout=$3
shift 3
case $format in grub | ipxe) ;; *) usage ;; esac
case $timeout in '' | *[!0-9]*) echo "$0: TIMEOUT '$timeout' is not a number of seconds" >&2; exit 2 ;; esac

# Names and command lines go into GRUB and iPXE scripts unquoted or in
# single quotes: keep them to characters neither language treats specially.
check() {
    while [ $# -gt 0 ]; do
        case $1 in '' | *[!a-z0-9-]*) echo "$0: entry name '$1': use a-z, 0-9 and -" >&2; exit 2 ;; esac
        # An empty one would boot the kernel's defaults (app=info) under
        # the entry's name: most likely BOOT_<name> was never set.
        case $2 in *[!\ ]*) ;; *)
            echo "$0: entry $1: the command line is empty: set BOOT_$1 (e.g. make iso BOOT_$1=\"app=info end=halt\")" >&2
            exit 2 ;;
        esac
        case $2 in *[!A-Za-z0-9=,.:/_\ -]*)
            echo "$0: entry $1: BOOT_$1 '$2' holds a character other than A-Z a-z 0-9 = , . : / _ - and space" >&2
            exit 2 ;;
        esac
        [ "$1" = "$default" ] && found=1
        shift 2
    done
}
found=
check "$@"
[ -n "$found" ] || { echo "$0: no entry named '$default' (the default)" >&2; exit 2; }

# A hot key per entry: its name's first letter, unless an earlier entry has
# it or GRUB's menu uses it ('e' edits an entry, 'c' opens the command line).
taken=ec
hotkey() {
    k=$(printf %.1s "$1")
    case $taken in *"$k"*) key= ;; *) key=$k taken=$taken$k ;; esac
}

grub() {
    cat <<EOF
# ixmetal's boot menu, made by tools/boot-menu.sh from the Makefile's
# BOOT_ENTRIES: change it there. Kernel output and this menu go to COM1
# (115200 8N1) and to the screen; each entry's hot key boots it at once.
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
terminal_input serial console
terminal_output serial console
# A video driver loaded, GRUB on UEFI hands the kernel a framebuffer (the
# Multiboot2 framebuffer tag); on BIOS the screen stays in VGA text mode.
insmod all_video
set timeout=$timeout
set default=$default
EOF
    while [ $# -gt 0 ]; do
        hotkey "$1"
        echo
        echo "menuentry 'ixmetal $1: $2' --id $1${key:+ --hotkey $key} {"
        echo "    multiboot2 /boot/ixmetal.elf $2"
        # After the multiboot2 line, which resets it. On BIOS keep VGA text;
        # on UEFI leave it unset: GRUB then sets the mode the kernel's header
        # asks for (1024x768x32). "keep" would give no framebuffer on UEFI.
        echo '    if [ "$grub_platform" = pc ]; then set gfxpayload=text; fi'
        echo "}"
        shift 2
    done
}

ipxe() {
    cat <<EOF
#!ipxe
# ixmetal's network boot, made by tools/boot-menu.sh from the Makefile's
# BOOT_ENTRIES: change it there. BIOS: this menu, then iPXE loads the
# Multiboot ELF itself. UEFI: iPXE cannot load an ELF, so it chains GRUB,
# whose menu (boot/grub/grub.cfg) has the same entries.
iseq \${platform} efi && goto efi || goto bios

:efi
chain boot/grub/x86_64-efi/core.efi
exit 1

:bios
EOF
    if [ "$timeout" -eq 0 ]; then
        echo "goto $default"
    else
        echo "menu ixmetal || goto $default"
        while [ $# -gt 0 ]; do
            hotkey "$1"
            echo "item${key:+ --key $key} $1 ixmetal $1: $2"
            shift 2
        done
        echo "choose --default $default --timeout $((timeout * 1000)) entry || goto $default"
        echo "goto \${entry}"
    fi
}

ipxe_entries() {
    while [ $# -gt 0 ]; do
        echo
        echo ":$1"
        echo "kernel boot/ixmetal.elf $2"
        echo "boot"
        shift 2
    done
}

if [ "$format" = grub ]; then
    grub "$@"
else
    ipxe "$@"
    ipxe_entries "$@"
fi
