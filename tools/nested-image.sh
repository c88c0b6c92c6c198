#!/usr/bin/env bash
# tools/nested-image.sh - the Linux VM (L1) of the nested passthrough tests.
#
#   tools/nested-image.sh [DIR]     DIR/vmlinuz and DIR/initrd.cpio (default build/nested)
#
# tests/nested.py boots it under QEMU with an emulated Intel IOMMU and two
# igbs; inside, tools/passthrough lends the igbs through vfio-pci to a QEMU
# (L2) that runs ixmetal (docs/passthrough.md).
#
# Everything in it is Debian's: the kernel (linux-image-amd64's 6.1 package,
# `apt-get download`) and a few of its modules (vfio, vfio-pci, igb),
# busybox-static (the shell and the tools of /init), and from this machine
# qemu-system-x86_64 with the shared libraries ldd names and the firmware an
# L2 boot reads, and python3 with the standard modules tools/passthrough and
# tests/nested_guest.py import. Nothing else is downloaded.
#
# The image is rebuilt only when its inputs change: this script, the
# packages' versions and every file taken from this machine, the standard
# modules the two Python files import among them (a hash of it all, in
# DIR/key). What a run needs of the repository (build/ixmetal.elf,
# tools/passthrough, the test's plan) is not in it: tests/nested.py adds a
# second, small initramfs archive per run, so a new kernel or tool needs no
# new image.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/nested}
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)

# The modules loaded in L1, in the order insmod needs (each one's depends=
# comes before it; checked below). tests/nested.py's plan loads them in this
# order (its VFIO_MODULES and IGB_MODULES).
VFIO_MODULES="irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci"
IGB_MODULES="dca i2c-algo-bit igb"
# What an L2 boot reads besides QEMU: SeaBIOS, the VGA BIOS of q35's
# default display, the Multiboot loader option ROM of -kernel.
FIRMWARE="/usr/share/seabios/bios-256k.bin /usr/share/seabios/vgabios-stdvga.bin
/usr/share/qemu/multiboot_dma.bin /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/kvmvapic.bin"
QEMU_BIN=/usr/bin/qemu-system-x86_64
PYTHON_BIN=$(readlink -f /usr/bin/python3)

say() { echo "nested-image: $*"; }
die() { echo "nested-image: $*" >&2; exit 1; }

# --- the two packages: names and versions from apt's candidates ------------------

candidate() { apt-cache policy "$1" | sed -n 's/^  Candidate: //p'; }
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-6\.1\..*-amd64\)$/\1/p' | head -1
}
kpkg=$(kernel_package)
if [ -z "$kpkg" ] && [ "$(id -u)" -eq 0 ]; then  # a machine whose package lists were never fetched
    say "apt-get update (apt knows no linux-image-amd64)"
    apt-get update -qq || true
    kpkg=$(kernel_package)
fi
[ -n "$kpkg" ] ||
    die "apt-cache names no linux-image-6.1.*-amd64 for linux-image-amd64 (apt-get update?)"
kver=$(candidate "$kpkg")
bver=$(candidate busybox-static)
[ -n "$kver" ] && [ "$kver" != "(none)" ] && [ -n "$bver" ] && [ "$bver" != "(none)" ] ||
    die "apt has no candidate for $kpkg or busybox-static (apt-get update?)"

# deb: the cached .deb of package $1 at version $2, downloaded once.
deb() {
    local f
    f=$(ls "$out/debs/$1_"*"_amd64.deb" 2>/dev/null | grep -F "_${2/:/%3a}_" | head -1 || true)
    if [ -z "$f" ]; then
        rm -f "$out/debs/$1_"*.deb
        say "apt-get download $1=$2" >&2
        (cd "$out/debs" && apt-get download -q "$1=$2" >/dev/null 2>&1) ||
            die "apt-get download $1=$2 failed"
        f=$(ls "$out/debs/$1_"*"_amd64.deb")
    fi
    echo "$f"
}
kdeb=$(deb "$kpkg" "$kver")
bdeb=$(deb busybox-static "$bver")
for f in "$out/debs/"*.deb; do  # an older kernel's, after a security update
    [ "$f" = "$kdeb" ] || [ "$f" = "$bdeb" ] || rm -f "$f"
done

# --- what is taken from this machine ----------------------------------------------

# libs: the shared libraries (with the loader) that ldd lists for $@.
libs() {
    ldd "$@" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' | sort -u
}
# The standard modules the two Python programs import, as files, with their
# compiled forms: what a run of the imports loads (sys.modules), plus the
# codecs Python loads before any import.
python_files() {
    LC_ALL=C "$PYTHON_BIN" -I - tools/passthrough tests/nested_guest.py <<'END'
import ast, importlib.util, os, sys
names = {"encodings.utf_8", "encodings.ascii", "encodings.latin_1", "encodings.aliases"}
for path in sys.argv[1:]:
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
for n in sorted(names):
    __import__(n)
files = set()
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f and f.startswith(sys.prefix + "/lib/python3.") and "-packages/" not in f:
        files.add(f)
        if f.endswith(".py"):
            c = importlib.util.cache_from_source(f)
            if os.path.exists(c):
                files.add(c)
print("\n".join(sorted(files)))
END
}
host_files() {
    echo "$QEMU_BIN"
    echo "$PYTHON_BIN"
    libs "$QEMU_BIN" "$PYTHON_BIN"
    python_files
    for f in $FIRMWARE; do readlink -f "$f"; done
}
files=$(host_files | sort -u)
for f in $files; do
    [ -f "$f" ] || die "$f is missing (tools/deps.sh installs QEMU and python3)"
done

# --- up to date? --------------------------------------------------------------------

key=$( {
    sha256sum "$0"
    echo "$kpkg $kver busybox-static $bver"
    # shellcheck disable=SC2086 # one word per file
    sha256sum $files
} | sha256sum | cut -d' ' -f1)
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] && [ -f "$out/vmlinuz" ] &&
   [ -f "$out/initrd.cpio" ]; then
    say "up to date ($out, $kpkg $kver)"
    exit 0
fi
SECONDS=0
rm -f "$out/key"

# --- the tree ---------------------------------------------------------------------

work=$out/work
rm -rf "$work"
mkdir -p "$work/deb" "$work/root"
root=$work/root
dpkg-deb -x "$kdeb" "$work/deb"
dpkg-deb -x "$bdeb" "$work/deb"
kabi=${kpkg#linux-image-}

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,lib/modules}
cp "$work/deb/bin/busybox" "$root/bin/busybox"
# Each module, checked: everything in its depends= comes earlier in the list.
loaded=" "
for m in $VFIO_MODULES $IGB_MODULES; do
    ko=$(find "$work/deb/lib/modules/$kabi" -name "$m.ko" | head -1)
    [ -n "$ko" ] || die "$m.ko is not in $kpkg"
    deps=$(grep -a -o 'depends=[A-Za-z0-9_,-]*' "$ko" | sed 's/^depends=//' | tr ',' ' ' || true)
    for d in $deps; do
        # the kernel treats - and _ in module names alike
        case "$loaded" in *" ${d//-/_} "*) ;; *) die "$m needs $d before it" ;; esac
    done
    cp "$ko" "$root/lib/modules/"
    loaded+="${m//-/_} "
done
for f in $files; do
    mkdir -p "$root$(dirname "$f")"
    cp -p "$f" "$root$f"
done
ln -s "$(basename "$PYTHON_BIN")" "$root/usr/bin/python3"
# QEMU looks for its firmware in /usr/share/qemu and /usr/share/seabios: the
# files went to where their links point, so link them back.
for f in $FIRMWARE; do
    [ -e "$root$f" ] || ln -s "$(readlink -f "$f")" "$root$f"
done

# /init: the shell of busybox, the kernel's file systems, then the test's
# program from the run's own archive (/ixm/init); power off when it ends,
# however it ends.
cat > "$root/init" <<'END'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
if [ -x /ixm/init ]; then
    /ixm/init
else
    echo "nested: no /ixm/init: this image needs the run's archive (tests/nested.py)"
fi
echo "nested: power off"
poweroff -f
END
chmod 755 "$root/init"

# The image checks itself where it can without booting (as root: chroot):
# QEMU and Python run from the tree alone, and Python imports everything the
# programs import.
if [ "$(id -u)" -ne 0 ]; then
    say "not root: the tree is not checked in a chroot (L1's boot will tell)"
elif ! chroot "$root" /usr/bin/qemu-system-x86_64 --version > /dev/null; then
    die "QEMU does not run from the tree (a library missing?)"
fi
mods=$(LC_ALL=C "$PYTHON_BIN" -I -c 'import ast, sys
names = set()
for p in sys.argv[1:]:
    for n in ast.walk(ast.parse(open(p).read())):
        if isinstance(n, ast.Import): names.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.module and not n.level: names.add(n.module)
print(",".join(sorted(names)))' tools/passthrough tests/nested_guest.py)
if [ "$(id -u)" -eq 0 ] && ! chroot "$root" /usr/bin/python3 -I -c "import $mods"; then
    die "Python in the tree cannot import $mods"
fi

# --- the archive ----------------------------------------------------------------------

cp "$work/deb/boot/vmlinuz-$kabi" "$out/vmlinuz.new"
# Not compressed: under TCG, L1 unpacks 70 MiB of plain cpio faster (8.3 s
# from QEMU's start to /init) than 22 MiB of gzip (9.9 s), lz4 or zstd (9.6-9.8 s).
(cd "$root" && find . | sort | "$work/deb/bin/busybox" cpio -o -H newc 2>/dev/null) \
    > "$out/initrd.cpio.new"
mv "$out/vmlinuz.new" "$out/vmlinuz"
mv "$out/initrd.cpio.new" "$out/initrd.cpio"
echo "$key" > "$out/key"
rm -rf "$work"
size=$(( $(stat -c %s "$out/initrd.cpio") >> 20 ))
say "built $out in $SECONDS s: $kpkg $kver, initrd $size MiB"
