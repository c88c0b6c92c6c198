#!/usr/bin/env bash
# tools/deps.sh - install what ixmetal needs to build, boot and test.
#
# Everything comes from Debian 12's own archive: QEMU 10 from bookworm-backports
# (Debian 12's QEMU 7.2 has no igb device), GRUB for BIOS and UEFI, xorriso and
# mtools for grub-mkrescue, OVMF for UEFI boots, valgrind for the
# instruction-count benchmarks of the packet path.
# Run as root it installs what is missing; otherwise it prints the commands.
# Safe to run again: it does nothing when everything is present.
set -eu

QEMU_MIN_MAJOR=10
BACKPORTS_LIST=/etc/apt/sources.list.d/ixmetal-bookworm-backports.sources

missing=()
have() { command -v "$1" >/dev/null 2>&1; }

qemu_major() {
    qemu-system-x86_64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p'
}

need_qemu=0
major=$(qemu_major || true)
if [ -z "$major" ] || [ "$major" -lt "$QEMU_MIN_MAJOR" ]; then
    need_qemu=1
fi
have gcc                                || missing+=(gcc)
have make                               || missing+=(make)
have ld                                 || missing+=(binutils)
have grub-mkrescue                      || missing+=(grub-common)
[ -d /usr/lib/grub/i386-pc ]            || missing+=(grub-pc-bin)
[ -d /usr/lib/grub/x86_64-efi ]         || missing+=(grub-efi-amd64-bin)
have xorriso                            || missing+=(xorriso)
have mformat                            || missing+=(mtools)
[ -f /usr/share/OVMF/OVMF_CODE.fd ]     || missing+=(ovmf)
have valgrind                           || missing+=(valgrind)
have python3                            || missing+=(python3)

if [ "$need_qemu" -eq 0 ] && [ "${#missing[@]}" -eq 0 ]; then
    echo "deps: everything is installed (QEMU $major)"
    exit 0
fi

# The backports source: same archive and keyring as Debian's main source.
backports_source='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing:${missing[*]:+ ${missing[*]}}$([ "$need_qemu" -eq 1 ] && echo " qemu-system-x86 (>= $QEMU_MIN_MAJOR)")"
    echo "deps: not root; run this script with sudo, or these commands as root:"
    if [ "$need_qemu" -eq 1 ]; then
        echo "  cat > $BACKPORTS_LIST <<'END'"
        echo "$backports_source"
        echo "END"
    fi
    echo "  apt-get update"
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "  apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    if [ "$need_qemu" -eq 1 ]; then
        echo "  apt-get install -y -t bookworm-backports qemu-system-x86"
    fi
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ "$need_qemu" -eq 1 ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deps: adding bookworm-backports ($BACKPORTS_LIST)"
    printf '%s\n' "$backports_source" > "$BACKPORTS_LIST"
fi
# Other sources on the machine may be unreachable; what matters is that the
# installs below succeed, so an update warning is not fatal.
apt-get update -qq || echo "deps: apt-get update reported errors (continuing)"
if [ "${#missing[@]}" -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$need_qemu" -eq 1 ]; then
    echo "deps: installing qemu-system-x86 from bookworm-backports"
    apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null
fi
major=$(qemu_major || true)
if [ -z "$major" ] || [ "$major" -lt "$QEMU_MIN_MAJOR" ]; then
    echo "deps: QEMU $QEMU_MIN_MAJOR or newer is needed, found '${major:-none}'" >&2
    exit 1
fi
echo "deps: ready (QEMU $major)"
