# ixmetal - one non-recursive Makefile: the kernel image, the ISO, QEMU, tests.
#
#   make            build/ixmetal.elf (+ .sym, .asm), prints the image size
#   make iso        build/ixmetal.iso: GRUB, hybrid BIOS + UEFI, for a USB stick
#   make netboot    build/netboot: a TFTP tree for iPXE (BIOS) and GRUB (UEFI)
#   make run        the main job: VM "gen" (pktgen) cabled to VM "dut" (fwd)
#   make boot       build and boot one VM, APP="..." its command line
#   make test       host unit tests, fuzz targets briefly, then QEMU boot tests
#   make test-nested tools/passthrough for real: a Linux VM with an IOMMU lends
#                   QEMU's igbs to ixmetal through vfio-pci (tests/nested.py)
#   make fuzz       every libFuzzer target FUZZ_S seconds (tests/fuzz/)
#   make deps       install what is missing (tools/deps.sh); run, boot, test,
#                   bench, iso, netboot and qemu-gdb do it first
#   make qemu-gdb   boot under QEMU, stopped, waiting for gdb on :1234
#   make bench      boot time and forwarding rate under QEMU (numbers to read, not tests)
#   make soak       fwd on igb, then virtio-net: SOAK_FRAMES frames each (not in make test)
#   make format     clang-format every C file
#   make docs       the pictures in docs/ (SVG) from their .dot and .gp sources

CC      ?= gcc
LD      ?= ld
OBJDUMP ?= objdump
NM      ?= nm
QEMU    ?= qemu-system-x86_64
PYTHON  ?= python3

BUILD := build

KERNEL_CFLAGS := -std=c11 -ffreestanding -mno-red-zone -Wall -Wextra -Werror -O2 -g \
	-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -mgeneral-regs-only -nostdlib -I.
KERNEL_ASFLAGS := -ffreestanding -fno-pic -fno-pie -I. -Iboot
KERNEL_LDFLAGS := -m elf_x86_64 -n -z max-page-size=0x1000 -T linker.ld --no-warn-rwx-segments

KERNEL_SRCS := $(wildcard boot/*.S kernel/*.S kernel/*.c driver/*.c apps/*.c)
KERNEL_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(KERNEL_SRCS))

ELF := $(BUILD)/ixmetal.elf
ISO := $(BUILD)/ixmetal.iso

# Accelerator: KVM only where the real KVM modules are loaded. A bare
# /dev/kvm can be an instruction-by-instruction emulator (docs/running.md).
ACCEL ?= $(if $(wildcard /sys/module/kvm_intel /sys/module/kvm_amd),kvm,tcg)
MEM   ?= 512M
SMP   ?= 2
APP   ?= app=info
# Everything QEMU is given, in one place; override on the command line.
QEMU_OPTS ?= -accel $(ACCEL) -M q35 -m $(MEM) -smp $(SMP) -nographic -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,addr=3,romfile=

.PHONY: all iso netboot run boot qemu-gdb test test-nested unit fuzz fuzz-build bench soak format docs clean deps deps-fuzz deps-bench deps-docs
all: $(ELF) $(BUILD)/ixmetal.sym $(BUILD)/ixmetal.asm
	@start=$$($(NM) $(ELF) | sed -n 's/^\([0-9a-f]*\) . __image_start$$/\1/p'); \
	 end=$$($(NM) $(ELF) | sed -n 's/^\([0-9a-f]*\) . __image_end$$/\1/p'); \
	 echo "ixmetal.elf: $$(stat -c %s $(ELF)) bytes on disk, $$((0x$$end - 0x$$start)) bytes in memory"

$(BUILD)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_ASFLAGS) -MMD -MP -c $< -o $@

$(ELF): $(KERNEL_OBJS) linker.ld
	$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS)

$(BUILD)/ixmetal.sym: $(ELF)
	$(NM) -n $< > $@

$(BUILD)/ixmetal.asm: $(ELF)
	$(OBJDUMP) -d -S $< > $@

# The boot menu of the ISO and of network boot, one list: each name in
# BOOT_ENTRIES is an entry that boots the command line BOOT_<name>;
# BOOT_DEFAULT boots after BOOT_TIMEOUT seconds. tools/boot-menu.sh makes
# GRUB's grub.cfg and the iPXE script from it. For example:
#   make netboot BOOT_fwd="app=fwd ports=03:00.0,03:00.1 cores=4 end=halt"
# Every entry ends with end=halt: on a real box, what the app printed stays
# on the screen (the kernel's own default, end=off, powers off at once).
BOOT_ENTRIES  ?= fwd pktgen selftest info help
BOOT_fwd      ?= app=fwd mode=io batch=32 idle=0 end=halt
BOOT_pktgen   ?= app=pktgen size=60 rate=0 flows=64 end=halt
BOOT_selftest ?= app=selftest end=halt
BOOT_info     ?= app=info end=halt
BOOT_help     ?= help end=halt
BOOT_DEFAULT  ?= fwd
BOOT_TIMEOUT  ?= 5
# Each command line in single quotes, a ' in it passed on as '\'' for
# tools/boot-menu.sh to refuse by name; an unset BOOT_<name> arrives empty.
BOOT_MENU = $(BOOT_DEFAULT) $(BOOT_TIMEOUT) \
	$(foreach e,$(BOOT_ENTRIES),$(e) '$(subst ','\'',$(BOOT_$(e)))')

# Made every time, replaced only when it changed: the ISO is rebuilt when
# the menu changes, and only then.
$(BUILD)/iso/boot/grub/grub.cfg: tools/boot-menu.sh FORCE
	@mkdir -p $(dir $@)
	@tools/boot-menu.sh grub $(BOOT_MENU) > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# Written under another name and renamed: a test booting the old ISO never
# reads a half-written one.
iso: $(ISO)
$(ISO): $(ELF) $(BUILD)/iso/boot/grub/grub.cfg | deps
	cp $(ELF) $(BUILD)/iso/boot/ixmetal.elf
	grub-mkrescue -o $@.new $(BUILD)/iso 2> $(BUILD)/grub-mkrescue.log || { cat $(BUILD)/grub-mkrescue.log; exit 1; }
	mv $@.new $@
	@echo "ixmetal.iso: $$(stat -c %s $@) bytes"

# A TFTP tree for network boot (docs/real-machine.md): boot.ipxe, the
# kernel at boot/ixmetal.elf and GRUB's EFI netboot image with its modules
# under boot/grub, the same layout as the ISO. The menus are made first and
# put in place last: a bad BOOT_* leaves a tree being served as it was.
NETBOOT ?= $(BUILD)/netboot
netboot: $(ELF) tools/boot-menu.sh | deps
	@mkdir -p $(NETBOOT)/boot/grub
	tools/boot-menu.sh grub $(BOOT_MENU) > $(NETBOOT)/boot/grub/grub.cfg.new
	tools/boot-menu.sh ipxe $(BOOT_MENU) > $(NETBOOT)/boot.ipxe.new
	grub-mknetdir --net-directory=$(NETBOOT) --subdir=boot/grub -d /usr/lib/grub/x86_64-efi > /dev/null
	cp $(ELF) $(NETBOOT)/boot/ixmetal.elf
	mv $(NETBOOT)/boot/grub/grub.cfg.new $(NETBOOT)/boot/grub/grub.cfg
	mv $(NETBOOT)/boot.ipxe.new $(NETBOOT)/boot.ipxe
	@echo "netboot: $(NETBOOT) is a TFTP root; point iPXE at boot.ipxe"

FORCE:

# What the targets below run, installed if missing (tools/deps.sh; not
# root, it prints the commands and fails). A file needing it takes it
# order-only (| deps): checked first, never a reason to rebuild.
deps:
	@tools/deps.sh

# The main job: two VMs cabled back to back (tools/run-pair.sh). The dut
# halts between bursts (idle=200): both VMs share this machine's CPUs.
DURATION ?= 10
GEN ?= rate=10000 size=128 flows=16
DUT ?= mode=io idle=200
run: deps all
	ACCEL=$(ACCEL) tools/run-pair.sh $(DURATION) "$(GEN)" "$(DUT)"

boot: deps all
	$(QEMU) $(QEMU_OPTS) -kernel $(ELF) -append "$(APP)"; \
	  s=$$?; [ $$s -eq 1 ] && echo "(QEMU exit status 1: ixmetal powered off cleanly)" || echo "(QEMU exit status $$s)"

qemu-gdb: deps all
	@echo "QEMU is stopped; in another terminal: gdb $(ELF) -ex 'target remote :1234'"
	$(QEMU) $(QEMU_OPTS) -kernel $(ELF) -append "$(APP)" -S -gdb tcp::1234

# --- tests -------------------------------------------------------------------

HOST_CFLAGS := -std=c11 -DIXM_HOST -DMEMPOOL_CHECKS -I. -g -O1 -Wall -Wextra -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
# The kernel sources each test runs (beyond its own file and tests/unit/host.c).
UNIT_kprintf  := kernel/kprintf.c
UNIT_cmdline  := kernel/cmdline.c kernel/kprintf.c
UNIT_memmap   := kernel/memmap.c
UNIT_palloc   := kernel/palloc.c
UNIT_bootinfo := kernel/bootinfo.c kernel/memmap.c
UNIT_screen   := kernel/screen.c kernel/font.c kernel/memmap.c kernel/kprintf.c
UNIT_acpi     := kernel/acpi.c kernel/kprintf.c kernel/memmap.c
UNIT_iommu    := kernel/kprintf.c # and kernel/iommu.c, which the test includes
UNIT_pci      := kernel/pci.c kernel/kprintf.c
UNIT_mempool  := driver/mempool.c kernel/kprintf.c
UNIT_ixgbe_model := tests/model/ixgbe_model.c
UNIT_virtio_net := driver/virtio_net.c driver/mempool.c kernel/kprintf.c
UNIT_igb      := driver/igb.c driver/intel.c driver/link.c driver/mempool.c kernel/kprintf.c
UNIT_ixgbe    := driver/ixgbe.c driver/ixgbe_sfp.c driver/intel.c driver/link.c driver/mempool.c kernel/kprintf.c apps/selftest.c \
	tests/model/ixgbe_model.c
UNIT_BINS := $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_TESTS))
# The tests whose code frees buffers, once more without MEMPOOL_CHECKS
# (driver/pktbuf.h), as the image and the bench build the mempool: both
# builds behave the same but for what only the checks catch.
NOCHECKS_TESTS := mempool ixgbe virtio_net
NOCHECKS_BINS := $(patsubst %,$(BUILD)/unit/test_%_nochecks,$(NOCHECKS_TESTS))
UNIT_BINS += $(NOCHECKS_BINS)

.SECONDEXPANSION:
$(NOCHECKS_BINS): $(BUILD)/unit/test_%_nochecks: tests/unit/test_%.c tests/unit/host.c tests/unit/host.h $$(UNIT_$$*) $$(wildcard kernel/*.h boot/*.h driver/*.h apps/*.h tests/model/*.h tests/model/*.def tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -DMEMPOOL_CHECKS,$(HOST_CFLAGS)) -o $@ $< tests/unit/host.c $(UNIT_$*)

$(BUILD)/unit/test_%: tests/unit/test_%.c tests/unit/host.c tests/unit/host.h $$(UNIT_$$*) $$(wildcard kernel/*.h boot/*.h driver/*.h apps/*.h tests/model/*.h tests/model/*.def tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $< tests/unit/host.c $(UNIT_$*)

$(BUILD)/unit/test_iommu: kernel/iommu.c

unit: $(UNIT_BINS)

# libFuzzer targets (docs/tests.md, "Fuzzing"): each feeds its input to the real
# parser, behind the unit tests' host seam (tests/unit/host.c).
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=c11 -DIXM_HOST -DMEMPOOL_CHECKS -I. -g -O1 -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
# The sources each target runs (beyond its own file and tests/unit/host.c).
FUZZ_cmdline     := kernel/cmdline.c kernel/kprintf.c
FUZZ_mb1         := kernel/bootinfo.c kernel/memmap.c
FUZZ_mb2         := kernel/bootinfo.c kernel/memmap.c
FUZZ_acpi        := kernel/acpi.c kernel/kprintf.c kernel/memmap.c
FUZZ_pktgen_rx   := apps/pktgen_rx.c
FUZZ_intel_rx    := driver/intel.c driver/link.c driver/mempool.c kernel/kprintf.c tests/fuzz/platform.c
FUZZ_pci_caps    := driver/virtio_net.c driver/mempool.c kernel/kprintf.c tests/fuzz/platform.c
FUZZ_virtio_used := driver/virtio_net.c driver/mempool.c kernel/kprintf.c tests/fuzz/platform.c
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/unit/host.c $$(FUZZ_$$*) $$(wildcard kernel/*.h boot/*.h driver/*.h apps/*.h tests/fuzz/*.h tests/unit/*.h) | deps-fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< tests/unit/host.c $(FUZZ_$*)

deps-fuzz:
	@tools/deps.sh fuzz

deps-bench:
	@tools/deps.sh bench

fuzz-build: $(FUZZ_BINS)

# Every target (or FUZZ_TARGETS="acpi mb2") FUZZ_S seconds, one after the
# other, on a copy of its corpus (tests/fuzz/corpus/<target>, never grown
# by a run); what a target finds is kept in build/fuzz/crashes/<target>/.
FUZZ_S ?= 60
fuzz: fuzz-build
	tools/fuzz.sh $(FUZZ_S) $(FUZZ_TARGETS)

# The host side of the traffic tests (tools/netharness.md).
$(BUILD)/netharness: tools/netharness.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o $@ $<

# MAKEFLAGS emptied: the tests' own `make netboot` runs are makes of their
# own, not children of this one (under make -j they would warn, on stderr,
# that the jobserver is unavailable).
test: deps all iso unit fuzz-build $(BUILD)/netharness
	MAKEFLAGS= $(PYTHON) tests/run.py --unit $(UNIT_BINS) tests/test_passthrough.py tests/test_deps.py tests/test_docs.py \
	  --fuzz $(FUZZ_TARGETS)

# The soak (docs/tests.md, "Soak"): fwd on igb, then on virtio-net, each
# SOAK_FRAMES frames (both directions together) of mixed sizes at SOAK_RATE
# frames/s; every frame and counter checked. ~10 min per NIC at the default.
# A quick one: make soak SOAK_FRAMES=200000
SOAK_FRAMES ?= 10000000
SOAK_RATE   ?= 20000
soak: deps all $(BUILD)/netharness
	$(PYTHON) tests/run.py --soak --frames $(SOAK_FRAMES) --rate $(SOAK_RATE)

# tools/passthrough in a Linux VM (L1) with an emulated IOMMU, lending two
# igbs to ixmetal in a QEMU inside it (docs/passthrough.md). L1's image
# is rebuilt only when its inputs change.
test-nested: deps all $(BUILD)/netharness
	tools/nested-image.sh $(BUILD)/nested
	$(PYTHON) tests/nested.py

bench: deps deps-bench all $(BUILD)/netharness $(BUILD)/bench-ixgbe
	tools/bench-boot.sh 20 pc
	tools/bench-boot.sh 20 q35
	tools/bench-fwd.sh
	tools/bench-ixgbe.sh

# The ixgbe driver on the host against two 82599 models: optimised, no
# sanitizers, so cycles and instructions are the driver's (tools/bench-ixgbe.c).
BENCH_IXGBE_SRCS := tools/bench-ixgbe.c driver/ixgbe.c driver/ixgbe_sfp.c driver/intel.c driver/mempool.c \
	kernel/kprintf.c tests/model/ixgbe_model.c
$(BUILD)/bench-ixgbe: $(BENCH_IXGBE_SRCS) apps/fwd_rewrite.h $(wildcard driver/*.h kernel/*.h tests/model/*.h tests/model/*.def)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -DIXM_HOST -I. -O2 -g -Wall -Wextra -Werror -pthread -o $@ $(BENCH_IXGBE_SRCS)

# The pictures of docs/ (graphviz and gnuplot, tools/deps.sh docs), kept in
# the repository beside their sources so that a reader needs neither.
DOCS_SVGS := $(patsubst %.dot,%.svg,$(wildcard docs/*.dot)) $(patsubst %.gp,%.svg,$(wildcard docs/*.gp))
docs: $(DOCS_SVGS)
docs/%.svg: docs/%.dot | deps-docs
	dot -Tsvg $< -o $@
docs/%.svg: docs/%.gp | deps-docs
	gnuplot $< > $@.new && mv $@.new $@
deps-docs:
	@tools/deps.sh docs

format:
	@tools/deps.sh format
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
