#!/usr/bin/env python3
"""tests/nested.py - tools/passthrough for real, in a Linux VM with an IOMMU.

This machine has no IOMMU to lend a NIC through, so the test makes one: QEMU
(TCG) boots a Linux VM, L1 (tools/nested-image.sh: Debian's kernel with
intel_iommu=on), with QEMU's emulated Intel IOMMU and two igbs cabled to
this machine by dgram netdevs. Inside L1, tests/nested_guest.py runs
tools/passthrough, unchanged, on those igbs: a real vfio-pci, real IOMMU
groups, a real QEMU (L2, TCG inside TCG) booting ixmetal, which drives the
igbs it is lent; their frames still end here, where build/netharness sees
every one. One boot of L1 runs every scenario in sequence; a second, with
intel_iommu=off, the refusal without an IOMMU.

Each scenario is a PASS/FAIL line, as tests/run.py prints them; the last
line is "N passed, N failed".

    make test-nested                 # builds what it needs first
    tests/nested.py --only fwd       # the scenarios whose name contains 'fwd'
                                     # (L1 still boots and runs the whole plan)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # importing tests/run.py leaves no __pycache__
import run  # noqa: E402  (tests/run.py: Qemu, Checks, the traffic checks)
from run import Checks, Qemu, report, udp_ports  # noqa: E402

IMAGE = os.path.join(run.BUILD, "nested")
TOOL = os.path.join(run.ROOT, "tools", "passthrough")
GUEST = os.path.join(run.ROOT, "tests", "nested_guest.py")

# L1's PCI devices: the igbs at the slots run.dgram_nic gives them (an igb
# keeps the slot after its own for its virtual functions), and two e1000s
# behind a PCIe-to-PCI bridge: Linux puts everything behind such a bridge in
# one IOMMU group (they share the bridge's requester ID), the case of a
# device that cannot be lent alone.
A, B = run.nic_pci(0, "igb"), run.nic_pci(1, "igb")
E1, E2 = "0000:01:01.0", "0000:01:02.0"
# In L2, tools/passthrough puts the NICs at slots 3, 4, ...: fwd's ports.
run.NIC_DEVICES["igb-lent"] = dict(run.NIC_DEVICES["igb"], stride=1)
L2_A, L2_B = run.nic_pci(0, "igb-lent"), run.nic_pci(1, "igb-lent")

VFIO_MODULES = ["irqbypass", "vfio", "vfio_iommu_type1", "vfio_virqfd", "vfio-pci-core",
                "vfio-pci"]
IGB_MODULES = ["dca", "i2c-algo-bit", "igb"]
# hugepages: one 1 GiB page for L2's RAM in the fwd run (QEMU_1G below)
L1_CMDLINE = "console=ttyS0 loglevel=3 panic=-1 hugepagesz=1G hugepages=1 intel_iommu="
L1_BOOT_S = 30       # QEMU's start to the plan's first line (about 10 s measured)
FWD_COUNT = 20000    # frames each way through L2's fwd (34 kpps measured)
FWD_DURATION = 15    # fwd's duration= in L2, from its start: the harness's frames
L2_OPTS = ["--smp", "1", "--mem", "256M"]  # one vCPU: L1 has two, and so has this machine
# QEMU's igb maps the buffer of each descriptor it transmits in one piece
# (hw/net/net_tx_pkt.c: a shorter mapping fails) and drops the frame, with
# no counter, when it cannot: through the IOMMU, when the buffer spans two
# pages that are not adjacent in L1's memory. ixmetal's buffers are 2,176
# bytes apart, so some span a 4 KiB page boundary; with L2's RAM in L1's
# 4 KiB or 2 MiB pieces, frames in those were lost (23-39 of 20,000, under
# load or with L1's transparent huge pages off). A real 82576 reads each page
# through the IOMMU on its own. The fwd run, which counts every frame, gives
# L2 RAM in one 1 GiB page of L1 (contiguous behind the IOMMU) through
# tools/passthrough's --qemu: this wrapper.
QEMU_1G = ("ixm/qemu-1g", b"#!/bin/sh\n"
           b"# L2's RAM in L1's 1 GiB page (tests/nested.py, QEMU_1G)\n"
           b"exec qemu-system-x86_64 -mem-path /dev/hugepages -mem-prealloc \"$@\"\n")
FWD_OPTS = ["--smp", "1", "--mem", "1G", "--qemu", "/" + QEMU_1G[0]]

TCG_LINE = ("accel: tcg (neither kvm_intel nor kvm_amd is loaded: emulated, slow; "
            "--accel kvm to use /dev/kvm anyway)")
NO_IOMMU = ("passthrough: no IOMMU is on: /sys/kernel/iommu_groups is empty or missing, and "
            "vfio-pci needs one. Enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware "
            "setup, add intel_iommu=on (Intel) or amd_iommu=on (AMD, where it is on by default: "
            "remove any amd_iommu=off or iommu=off instead) to the kernel command line "
            "(GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub), and reboot.")
REFUSED_END = "passthrough: nothing was changed"


# --- L1: its image, the run's archive, the boot ------------------------------------

def newc(entries):
    """entries: (path, mode, bytes) -> a cpio archive in the "newc" format
    the kernel unpacks (its initramfs buffer format), with the trailer."""
    out = bytearray()
    for ino, (path, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        name = path.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name), 0)
        out += b"070701" + b"".join(b"%08X" % v for v in fields) + name
        out += b"\0" * (-len(out) % 4) + data + b"\0" * (-len(data) % 4)
    return bytes(out)


def initrd(tmp, plan):
    """The image's archive, then one with this run's files under /ixm: the
    kernel unpacks both, in order. Returns the file's path."""
    read = lambda p: open(p, "rb").read()
    files = [("ixm", 0o40755, b""), ("ixm/tools", 0o40755, b""), ("ixm/build", 0o40755, b""),
             ("ixm/init", 0o100755, read(GUEST)),
             ("ixm/tools/passthrough", 0o100755, read(TOOL)),
             ("ixm/build/ixmetal.elf", 0o100644, read(run.ELF)),
             (QEMU_1G[0], 0o100755, QEMU_1G[1]),
             ("ixm/plan.json", 0o100644, json.dumps(plan).encode())]
    path = os.path.join(tmp, "initrd")
    image = read(os.path.join(IMAGE, "initrd.cpio"))
    with open(path, "wb") as f:
        f.write(image + b"\0" * (-len(image) % 4) + newc(files))
    return path


def boot_l1(plan, iommu, extra, timeout):
    """L1 under TCG with the IOMMU, the two igbs cabled to this machine and
    extra devices; returns the run and the igbs' (QEMU port, harness port)."""
    ports = udp_ports(4)
    q0, h0, q1, h1 = ports
    tmp = os.path.join(run.BUILD, "nested", "run")
    os.makedirs(tmp, exist_ok=True)
    # the IOMMU first, then the devices whose DMA it translates
    # 4 GiB: q35 puts 2 above 4 GiB, and L1's kernel its early allocations at
    # the top, so 4-5 GiB is free for L2's 1 GiB page (below 2 GiB, the
    # initrd takes part of the only aligned GiB)
    args = ["-M", "q35", "-m", "4G", "-smp", "2", "-cpu", "max", "-device", "intel-iommu"]
    args += run.dgram_nic(0, q0, h0, "", "igb") + run.dgram_nic(1, q1, h1, "", "igb") + extra
    args += ["-kernel", os.path.join(IMAGE, "vmlinuz"), "-initrd", initrd(tmp, plan),
             "-append", L1_CMDLINE + iommu]
    return Qemu(args, timeout), (q0, h0, q1, h1)


# --- reading L1's console -------------------------------------------------------------

def said(lines):
    """The "nested: " lines, without the prefix."""
    return [l[len("nested: "):] for l in lines if l.startswith("nested: ")]


def section(lines, name):
    """The lines of run NAME: from its begin line to its exit line."""
    out, inside = [], False
    for l in lines:
        if l.startswith(f"nested: begin {name}: "):
            inside = True
        elif inside and (l.startswith(f"nested: exit {name} ")
                         or l.startswith(f"nested: {name} still running")):
            out.append(l)
            break
        if inside:
            out.append(l)
    return out


def exit_of(c, lines, name, want):
    """Checks run NAME's exit status; returns its seconds (or None)."""
    m = None
    for l in said(lines):
        m = re.fullmatch(rf"exit {name} (-?\d+) in ([\d.]+) s", l) or m
    if not m:
        c.problems.append(f"run {name} did not end: "
                          + (next((l for l in said(lines) if l.startswith(name)), "no exit line")))
        return None
    c.equal(f"{name}: tools/passthrough's exit status", int(m.group(1)), want)
    return float(m.group(2))


class States:
    """The state lines of L1's sysfs, by label and address."""

    def __init__(self, lines):
        self.by = {}
        for l in said(lines):
            m = re.fullmatch(r"(?:during (\S+): )?state (?:(\S+): )?(\S+) (.*)", l)
            if m:
                label = f"during {m.group(1)}" if m.group(1) else m.group(2)
                self.by[(label, m.group(3))] = dict(
                    kv.split("=", 1) for kv in m.group(4).split())

    def get(self, c, label, addr):
        s = self.by.get((label, addr))
        if s is None:
            c.problems.append(f"no state line {label!r} for {addr}")
        return s or {}

    def check(self, c, label, addr, **want):
        s = self.get(c, label, addr)
        for k, v in want.items():
            c.equal(f"{label}: {addr} {k}", s.get(k), v)


def one_iface(c, s, label, addr, up):
    """The device has one interface (its name is the kernel's choice), up or down."""
    m = re.fullmatch(r"(\w+):(up|down)", s.get("ifaces", ""))
    if not m or m.group(2) != ("up" if up else "down"):
        c.problems.append(f"{label}: {addr} should have one interface, {'up' if up else 'down'}; "
                          f"has {s.get('ifaces')!r}")
        return None
    return m.group(1)


# --- the plan and its checks -----------------------------------------------------------

def run_step(name, seconds, at, sig, *args):
    return ["run", name, seconds, at, sig] + list(args)


def main_plan():
    """One boot of L1: refusals first (vfio-pci is not loaded yet), then the
    lending runs, each followed by the devices' state and B's link."""
    def after(label):
        return [["state", label, A, B], ["link", B, "up"], ["state", label + "-up", B],
                ["link", B, "down"]]
    return [
        ["state", "start", A, B, E1, E2],
        run_step("refuse-no-vfio", 60, "", "", A),
        ["state", "after-refuse-no-vfio", A],
        ["insmod"] + VFIO_MODULES,
        run_step("refuse-group", 60, "", "", E1),
        ["state", "after-refuse-group", E1, E2],
        ["insmod"] + IGB_MODULES,
        # A without a driver, B on igb: the two ways a NIC can start
        ["unbind", A],
        ["link", B, "up"],
        ["state", "iface-up", A, B],
        run_step("refuse-iface-up", 60, "", "", B),
        ["state", "after-refuse-iface-up", B],
        ["link", B, "down"],
        ["state", "before", A, B],
        run_step("info", 120, rf"^nic {L2_A}: ", "", *L2_OPTS, A, "--", "app=info"),
    ] + after("after-info") + [
        ["hugepages", "/dev/hugepages"],
        run_step("fwd", FWD_DURATION + 90, r"^fwd: ", "", *FWD_OPTS, A, B, "--",
                 f"app=fwd duration={FWD_DURATION} mode=io"),
    ] + after("after-fwd") + [
        run_step("sigint", 120, r"^power: halted \(end=halt\)", "INT", *L2_OPTS, A, B, "--",
                 "app=info end=halt"),
    ] + after("after-sigint") + [
        run_step("sigterm", 120, r"^power: halted \(end=halt\)", "TERM", *L2_OPTS, A, B, "--",
                 "app=info end=halt"),
    ] + after("after-sigterm")


def check_describe(c, lines, addr, driver, group, iface=None):
    """tools/passthrough's line for a device, as read from L1's sysfs."""
    c.has(f"{addr} 8086:10c9 class 0x020000, driver {driver}"
          + (f", interface {iface} (down)" if iface else "")
          + f", IOMMU group {group}; ixmetal drives it with igb")


def check_lent(c, st, name, lines, addrs, before):
    """What every run that lends A (and B) shows: the tool's view of L1
    (as the state line labelled before says it is), the devices on vfio-pci
    with /dev/vfio/GROUP while L2 runs, and every device back afterwards."""
    c.has(TCG_LINE)
    c.match(r"IOMMU: on, \d+ groups in /sys/kernel/iommu_groups")
    ga = st.get(c, "start", A).get("group")
    gb = st.get(c, "start", B).get("group")
    iface_b = None
    if B in addrs:
        iface_b = re.sub(r":.*", "", st.get(c, before, B).get("ifaces", ""))
    check_describe(c, lines, A, "(none)", ga)
    if B in addrs:
        check_describe(c, lines, B, "igb", gb, iface_b)
    c.has("in the guest: " + ", ".join(f"{a} is {g}" for a, g in zip(addrs, (L2_A, L2_B))))
    for a, g in ((A, ga), (B, gb))[:len(addrs)]:
        c.has(f"  wait up to 5 s for the driver link /sys/bus/pci/devices/{a}/driver to name "
              f"vfio-pci, and for /dev/vfio/{g}")
        st.check(c, f"during {name}", a, driver="vfio-pci", override="vfio-pci", group=g,
                 vfio="yes", ifaces="none")
    back = f"{A} without a driver, as before" + (f", {B} on igb" if B in addrs else "")
    c.has(f"every device is back: {back}")


def check_back(c, st, label):
    """(c) After a run: A as it started (no driver, no override, no
    /dev/vfio node), B on igb again with one interface, which comes up."""
    st.check(c, label, A, driver="none", override="(null)", vfio="no", ifaces="none")
    st.check(c, label, B, driver="igb", override="(null)", vfio="no")
    one_iface(c, st.get(c, label, B), label, B, up=False)
    one_iface(c, st.get(c, label + "-up", B), label + "-up", B, up=True)


def carrier_line(c, lines, label):
    """The "link NAME up: carrier after S s" line right before the state line labelled label."""
    s = said(lines)
    i = next((k for k, l in enumerate(s) if l.startswith(f"state {label}: {B} ")), None)
    seen = s[i - 1] if i else "no line"
    if not re.fullmatch(r"link \w+ up: carrier after [\d.]+ s", seen):
        c.problems.append(f"{label}: {B}'s interface did not come up: {seen}")


def unchanged(c, st, label, addrs):
    for a in addrs:
        c.equal(f"{a} after the refusal", st.get(c, label, a), st.get(c, "start", a))


def t_refuse_no_vfio(lines, st):
    c = Checks(section(lines, "refuse-no-vfio"))
    exit_of(c, lines, "refuse-no-vfio", 2)
    c.equal("what it said", [l for l in c.lines if not l.startswith("nested: ")], [
        "passthrough: the vfio-pci driver is not loaded: sudo modprobe vfio-pci", REFUSED_END])
    st.check(c, "start", A, driver="none", override="(null)", vfio="no")
    c.equal(f"{A} after the refusal", st.get(c, "after-refuse-no-vfio", A), st.get(c, "start", A))
    return c


def t_refuse_group(lines, st):
    c = Checks(section(lines, "refuse-group"))
    exit_of(c, lines, "refuse-group", 2)
    g1, g2 = st.get(c, "start", E1).get("group"), st.get(c, "start", E2).get("group")
    c.equal("the e1000s' IOMMU groups (one, behind the bridge)", g1, g2)
    c.equal("what it said", [l for l in c.lines if not l.startswith("nested: ")], [
        f"passthrough: IOMMU group {g1} of {E1} also holds {E2} (8086:100e class 0x020000, "
        f"driver (none)): vfio-pci takes a whole group or nothing. Pass {E2} too, or put the "
        "card in a slot whose group it has to itself.", REFUSED_END])
    for e in (E1, E2):
        c.equal(f"{e} after the refusal", st.get(c, "after-refuse-group", e),
                st.get(c, "start", e))
    return c


def t_refuse_iface_up(lines, st):
    c = Checks(section(lines, "refuse-iface-up"))
    exit_of(c, lines, "refuse-iface-up", 2)
    name = one_iface(c, st.get(c, "iface-up", B), "iface-up", B, up=True)
    c.equal("what it said", [l for l in c.lines if not l.startswith("nested: ")], [
        f"passthrough: {B} carries network interface {name}, which is up: the host is using "
        f"it. Take it down first (sudo ip link set {name} down), or pass another port.",
        REFUSED_END])
    c.equal(f"{B} after the refusal", st.get(c, "after-refuse-iface-up", B),
            st.get(c, "iface-up", B))
    return c


def t_info(lines, st):
    """(a) app=info in L2 lists the lent igb and brings its link up."""
    c = Checks(section(lines, "info"))
    exit_of(c, lines, "info", run.EXIT_OK)
    c.match(rf"pci {L2_A} 8086:10c9 class 0200 \S.*")
    c.has(f"nic {L2_A}: igb 82576, mac {run.MAC0}, link up")
    c.has("QEMU exit status 1: ixmetal powered off cleanly")
    check_lent(c, st, "info", c.lines, [A], "before")
    return c


def check_give_back(lines, st):
    """(c) After every run, each igb where it started, read in L1's sysfs."""
    c = Checks(lines)
    for label in ("after-info", "after-fwd", "after-sigint", "after-sigterm"):
        check_back(c, st, label)
        carrier_line(c, lines, label + "-up")
    return c


def t_signal(lines, st, name, signame, status, before):
    """(e) Ctrl-C (SIGINT to the process group: tool and QEMU) or SIGTERM
    (to the tool alone) while L2 runs: QEMU stopped, the devices given back."""
    c = Checks(section(lines, name))
    exit_of(c, lines, name, status)
    c.has(f"passthrough: {signame}: stopping, then giving the devices back")
    check_lent(c, st, name, c.lines, [A, B], before)
    return c


def fwd_harness(ports):
    """(b) Once L2's fwd has started: the harness sends FWD_COUNT frames
    each way through both lent igbs, and checks every frame; after the run,
    every counter as the igb traffic test does."""
    q0, h0, q1, h1 = ports
    cmd = [run.HARNESS, "fwd", "--port", f"0={h0}:{q0}", "--port", f"1={h1}:{q1}",
           "--count", str(FWD_COUNT), "--mode", "io", "--mac0", run.MAC0, "--mac1", run.MAC1,
           "--flows", "1", "--timeout", "20"]
    t0 = time.monotonic()
    h = subprocess.run(cmd, capture_output=True, text=True, timeout=FWD_DURATION + 60)
    return h, time.monotonic() - t0


def t_fwd(lines, st, h, seconds):
    c = Checks(section(lines, "fwd"))
    exit_of(c, lines, "fwd", run.EXIT_OK)
    if h is None:
        c.problems.append("fwd never started in L2: the harness did not run")
        return c
    run.check_fwd(c, h, FWD_COUNT, "io", "", "igb-lent", 1, False, 1)
    check_lent(c, st, "fwd", c.lines, [A, B], "after-info")
    rate = [l for l in h.stdout.splitlines() if l.startswith("rate:")]
    c.note = (f"harness: {FWD_COUNT} frames each way in {seconds:.1f} s; "
              + (rate[0] if rate else "no rate line"))
    return c


def t_no_iommu():
    """(d) intel_iommu=off: the tool's sentence, and nothing written."""
    plan = [["insmod"] + VFIO_MODULES + IGB_MODULES, ["unbind", A], ["state", "start", A, B],
            run_step("refuse-no-iommu", 60, "", "", A, B), ["state", "after", A, B]]
    q, _ = boot_l1(plan, "off", [], L1_BOOT_S + 60)
    status = q.wait_exit()
    lines = q.lines()
    c = Checks(section(lines, "refuse-no-iommu"))
    st = States(lines)
    c.exit_status(status, 0)
    exit_of(c, lines, "refuse-no-iommu", 2)
    c.equal("what it said", [l for l in c.lines if not l.startswith("nested: ")],
            [NO_IOMMU, REFUSED_END])
    st.check(c, "start", A, driver="none", override="(null)", group="none")
    st.check(c, "start", B, driver="igb", override="(null)", group="none")
    for a in (A, B):
        c.equal(f"{a} after the refusal", st.get(c, "after", a), st.get(c, "start", a))
    if any(l.startswith("insmod") and not l.endswith(": ok") for l in said(lines)):
        c.problems.append("a module did not load: "
                          + "; ".join(l for l in said(lines) if l.startswith("insmod")))
    return c, q


def t_main():
    """The one boot of L1 with the IOMMU: every scenario in order."""
    bridge = ["-device", "pcie-pci-bridge,id=br1,addr=7",
              "-device", f"e1000,bus=br1,addr=1,romfile=,netdev=e0",
              "-netdev", "user,id=e0,restrict=on",
              "-device", f"e1000,bus=br1,addr=2,romfile=,netdev=e1",
              "-netdev", "user,id=e1,restrict=on"]
    t0 = time.monotonic()
    q, ports = boot_l1(main_plan(), "on", bridge, L1_BOOT_S + 600)
    h, seconds = None, 0
    if q.wait_line(rf"^fwd: {L2_A} <-> ") is not None:
        h, seconds = fwd_harness(ports)
    status = q.wait_exit()
    lines = q.lines()
    st = States(lines)
    boot = Checks(lines)
    boot.exit_status(status, 0)
    for l in said(lines):
        if (l.startswith("insmod") and not l.endswith(": ok")) or " failed" in l:
            boot.problems.append(f"L1: {l}")
    boot.match(r"nested: plan done; L1 up [\d.]+ s")
    # Each scenario's time is its run's in L1 (the tool's start to its end);
    # the boot's is the whole of L1, the give-back's the plan's link waits.
    results = [
        ("nested/l1-boot", boot),
        ("nested/refuse-no-vfio", t_refuse_no_vfio(lines, st)),
        ("nested/refuse-group", t_refuse_group(lines, st)),
        ("nested/refuse-iface-up", t_refuse_iface_up(lines, st)),
        ("nested/info", t_info(lines, st)),
        ("nested/fwd-two-igbs", t_fwd(lines, st, h, seconds)),
        ("nested/sigint", t_signal(lines, st, "sigint", "SIGINT", 128 + 2, "after-fwd")),
        ("nested/sigterm", t_signal(lines, st, "sigterm", "SIGTERM", 128 + 15, "after-sigint")),
        ("nested/give-back", check_give_back(lines, st)),
    ]
    return [(n, c, run_seconds(lines, n)) for n, c in results], q, time.monotonic() - t0


RUNS = {"nested/refuse-no-vfio": "refuse-no-vfio", "nested/refuse-group": "refuse-group",
        "nested/refuse-iface-up": "refuse-iface-up", "nested/info": "info",
        "nested/fwd-two-igbs": "fwd", "nested/sigint": "sigint", "nested/sigterm": "sigterm"}


def run_seconds(lines, name):
    """The seconds L1 said run RUNS[name] took, or None (the whole boot's)."""
    for l in said(lines):
        m = re.fullmatch(rf"exit {RUNS.get(name)} -?\d+ in ([\d.]+) s", l)
        if m:
            return float(m.group(1))
    return None


def timings(lines):
    """The plan's own times, for docs/passthrough.md: L1's boot and each run."""
    out = []
    for l in said(lines):
        if l.startswith("plan: ") or l.startswith("plan done") or l.startswith("exit "):
            out.append(l)
    return out


def report_all(results, q, seconds, log, show_times):
    """results: (name, checks, seconds or None: the whole boot's). L1's
    console is kept in log; a failure shows the end of its scenario's lines."""
    lines = q.lines()
    qemu_out = q.stop()
    with open(log, "w") as f:
        f.write("\n".join(lines) + "\n")
    for name, c, own in results:
        problems = c.problems
        if problems:
            problems = problems + [f"L1's console is in {os.path.relpath(log)}; the last "
                                   "lines this scenario read:"] + [
                "  | " + l for l in c.lines[-30:]]
            if qemu_out.strip():
                problems.append("QEMU said: " + qemu_out.strip()[-500:])
        report(name, problems, seconds if own is None else own)
        if getattr(c, "note", None):
            print(f"     {c.note}")
    if show_times:
        for l in timings(lines):
            print(f"     L1: {l}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="report only the scenarios whose name contains this")
    a = ap.parse_args()
    for f in (run.ELF, run.HARNESS, os.path.join(IMAGE, "vmlinuz"),
              os.path.join(IMAGE, "initrd.cpio")):
        if not os.path.exists(f):
            print(f"FAIL nested: {f} is missing: run make test-nested (it builds it)")
            return 1
    results, q, seconds = t_main()
    report_all([r for r in results if not a.only or a.only in r[0]], q, seconds,
               os.path.join(IMAGE, "console-iommu-on.log"), True)
    for other in list(run.LIVE):
        other.stop()
    if not a.only or a.only in "nested/refuse-no-iommu":
        t0 = time.monotonic()
        c, q = t_no_iommu()
        report_all([("nested/refuse-no-iommu", c, None)], q, time.monotonic() - t0,
                   os.path.join(IMAGE, "console-iommu-off.log"), False)
    print(f"{run.passed} passed, {run.failed} failed")
    return 1 if run.failed or not run.passed else 0


if __name__ == "__main__":
    sys.exit(main())
