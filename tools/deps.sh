#!/usr/bin/env bash
# tools/deps.sh - install what ixmetal needs to build, boot and test.
#
#   tools/deps.sh           what make run, test, bench, iso, netboot and the tools run
#   tools/deps.sh TARGET    what the rows marked TARGET need (make format: format;
#                           make fuzz and make test: fuzz; make bench: bench;
#                           make docs: docs)
#   tools/deps.sh --list    the list below, one row a line (tests/test_deps.py reads it)
#
# Everything comes from Debian 12's own archive: QEMU 10 from bookworm-backports
# (Debian 12's QEMU 7.2 has no igb device). Each row is checked by the
# program's own name (command -v), or by the file for what is not a program.
# Run as root it installs the packages of what is missing and says which;
# otherwise it prints the commands. Safe to run again: it does nothing when
# everything is present.
set -eu

QEMU_MIN_MAJOR=10

# The one list: a program the Makefile, tools/ or tests/ run (or a file they
# read), the Debian package that brings it (package/suite when not from
# bookworm itself) and, for what only one make target needs, that target.
# Programs of Debian's Essential or required packages (coreutils, sed, awk,
# util-linux's taskset, ...) are on every Debian system and are not listed;
# tests/test_deps.py checks that nothing else is missing from here.
NEEDS='
gcc                 gcc
make                make
ld                  binutils
nm                  binutils
objdump             binutils
python3             python3
qemu-system-x86_64  qemu-system-x86/bookworm-backports
grub-mkrescue       grub-common
grub-mknetdir       grub-common
grub-file           grub-common
grub-script-check   grub-common
/usr/lib/grub/i386-pc     grub-pc-bin          # BIOS GRUB, for grub-mkrescue
/usr/lib/grub/x86_64-efi  grub-efi-amd64-bin   # UEFI GRUB, for grub-mkrescue and grub-mknetdir
xorriso             xorriso                    # grub-mkrescue runs it
mformat             mtools                     # grub-mkrescue runs it (the EFI image)
/usr/share/OVMF/OVMF_CODE_4M.fd  ovmf          # UEFI firmware of the OVMF tests
ip                  iproute2                   # network namespaces and taps of the tap tests
sysctl              procps
valgrind            valgrind
callgrind_annotate  valgrind
git                 git           format
clang               clang         fuzz         # make fuzz: the targets, with libFuzzer and the sanitizers
/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a  libclang-rt-14-dev  fuzz  # libFuzzer itself
clang-format        clang-format  format
gnuplot             gnuplot-nox   bench        # make bench: the batch-size figure (tools/bench-ixgbe.sh)
dot                 graphviz      docs         # make docs: the pictures in docs/ from their .dot
gnuplot             gnuplot-nox   docs         # make docs: those from their .gp
'

rows() { sed 's/#.*//; /^ *$/d; s/  */ /g; s/ $//' <<<"$NEEDS"; }
if [ "${1:-}" = --list ]; then
    rows
    exit 0
fi
target=${1:-}

qemu_major() {
    qemu-system-x86_64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p'
}

present() {
    case $1 in
    /*) [ -e "$1" ] ;;
    qemu-system-x86_64)
        local major
        major=$(qemu_major || true)
        [ -n "$major" ] && [ "$major" -ge "$QEMU_MIN_MAJOR" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

# What is missing, by package in the list's order: order (each package
# once), packages (bookworm's own), per_suite (suite -> its packages) and
# wanted_by (package -> the rows that need it).
order=() packages=()
declare -A per_suite=() wanted_by=()
while read -r name package only _; do
    [ "${only:-}" = "$target" ] || continue
    present "$name" && continue
    if [ -z "${wanted_by[$package]:-}" ]; then
        order+=("$package")
        case $package in
        */*) per_suite[${package#*/}]+=" ${package%/*}" ;;
        *) packages+=("$package") ;;
        esac
    fi
    [ "$name" = qemu-system-x86_64 ] && name+=" $QEMU_MIN_MAJOR or newer"
    wanted_by[$package]+=", $name"
done < <(rows)

if [ "${#order[@]}" -eq 0 ]; then
    echo "deps: everything is installed${target:+ for $target}$([ -z "$target" ] && echo " (QEMU $(qemu_major))")"
    exit 0
fi
said=
for package in "${order[@]}"; do
    said+="; ${package%/*} for ${wanted_by[$package]#, }"
done
said=${said#; }

# A suite's source: the same archive and keyring as Debian's main source.
source_of() {
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\n' "$1"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
}
list_of() { echo "/etc/apt/sources.list.d/ixmetal-$1.sources"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing: $said"
    echo "deps: not root; run this script with sudo, or these commands as root:"
    for suite in "${!per_suite[@]}"; do
        echo "  cat > $(list_of "$suite") <<'END'"
        source_of "$suite"
        echo "END"
    done
    echo "  apt-get update"
    if [ "${#packages[@]}" -gt 0 ]; then
        echo "  apt-get install -y --no-install-recommends ${packages[*]}"
    fi
    for suite in "${!per_suite[@]}"; do
        echo "  apt-get install -y --no-install-recommends -t $suite${per_suite[$suite]}"
    done
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=600)  # another apt-get may be running: wait for it
echo "deps: installing $said"
for suite in "${!per_suite[@]}"; do
    if ! grep -rqs "$suite" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "deps: adding $suite ($(list_of "$suite"))"
        source_of "$suite" > "$(list_of "$suite")"
    fi
done
# Other sources on the machine may be unreachable; what matters is that the
# installs below succeed, so an update warning is not fatal.
"${apt[@]}" update -qq || echo "deps: apt-get update reported errors (continuing)"
if [ "${#packages[@]}" -gt 0 ]; then
    "${apt[@]}" install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
for suite in "${!per_suite[@]}"; do
    # shellcheck disable=SC2086 # the suite's packages, one word each
    "${apt[@]}" install -y -qq --no-install-recommends -t "$suite" ${per_suite[$suite]} >/dev/null
done
still=()
while read -r name package only _; do
    [ "${only:-}" = "$target" ] && ! present "$name" && still+=("$name")
done < <(rows)
if [ "${#still[@]}" -gt 0 ]; then
    echo "deps: still missing after the install: ${still[*]}$(present qemu-system-x86_64 ||
        echo " (QEMU $QEMU_MIN_MAJOR or newer is needed, found '$(qemu_major)')")" >&2
    exit 1
fi
echo "deps: ready${target:+ for $target}$([ -z "$target" ] && echo " (QEMU $(qemu_major))")"
