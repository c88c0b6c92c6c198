#!/usr/bin/env python3
"""tests/test_passthrough.py - tools/passthrough against a fake sysfs tree.

Each case builds a directory laid out like /sys (bus/pci/devices, bus/pci/drivers,
kernel/iommu_groups) and /dev (kvm, vfio/N), and runs the tool on it with a fake
QEMU. A fake tree does nothing when written to, so the tool runs in a child
process of this file (`--fake-kernel CONFIG -- ARGS`) that puts a small fake
kernel behind the tool's one write function (write_file) and its root check
(is_root): each write first goes to the tree's file as the tool would do it
(O_WRONLY, no O_CREAT: a wrong path fails), is logged as `echo VALUE > PATH`,
then changes the tree as Linux does (driver_override; unbind drops the driver
link; drivers_probe binds the override's driver, or the device's own, and
makes /dev/vfio/N for vfio-pci; bind binds). The fake QEMU logs to the same
file, so each case checks the exact order of every write around QEMU's start
and exit, the exit status, what the tool said and the tree's state in the end.
Where the tool leaves a device behind (killed, or a give-back failing), the
case then runs the shell line the tool printed for it through the same fake
kernel (Tree.by_hand) and checks that the device is back.

Output as the unit tests': "PASS test_passthrough: CASE" or "FAIL ...: CASE"
followed by indented details, read by tests/run.py.

    tests/test_passthrough.py            # every case
    tests/test_passthrough.py sigint     # the cases whose name contains 'sigint'
"""
import errno
import importlib.machinery
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # loading tools/passthrough leaves no __pycache__ there

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "tools", "passthrough")
PROGRAM = "test_passthrough"
DEVICES = "devices/pci0000:00"  # where the device directories are, under sys/
WAIT_S = 0.3  # the tool's bounded waits, shortened


# --- the fake kernel (runs in the child, behind the tool) ------------------------

class FakeKernel:
    def __init__(self, cfg, real_write):
        self.cfg, self.real_write = cfg, real_write
        self.sys, self.dev = cfg["sys"], cfg["dev"]
        self.times = {}  # how often each step was written
        self.late = []   # probes that land after the tool stopped waiting

    def log(self, line):
        with open(self.cfg["log"], "a") as f:
            f.write(line + "\n")

    def driver_of(self, addr):
        try:
            return os.path.basename(os.readlink(f"{self.sys}/bus/pci/devices/{addr}/driver"))
        except OSError:
            return None

    def group_of(self, addr):
        return os.path.basename(os.readlink(f"{self.sys}/bus/pci/devices/{addr}/iommu_group"))

    def write(self, path, text):
        with open(path) as f:  # the fake tree's file is a plain file: a refused write
            before = f.read()  # leaves it as it was
        self.real_write(path, text)  # the tree's file must be there
        rel = os.path.relpath(path, self.sys)
        value = text[:-1] if text.endswith("\n") else text
        step = f"echo {value} > {rel}" if value else f"echo > {rel}"
        self.log(step)
        self.times[step] = self.times.get(step, 0) + 1
        # "EBUSY": every time this step is written; "EIO#2": only the second time
        err, _, nth = self.cfg.get("write_errors", {}).get(step, "").partition("#")
        if err and (not nth or int(nth) == self.times[step]):
            with open(path, "w") as f:
                f.write(before)
            raise OSError(getattr(errno, err), os.strerror(getattr(errno, err)))
        p = rel.split("/")
        if p[:3] == ["bus", "pci", "devices"] and p[4:] == ["driver_override"]:
            with open(path, "w") as f:
                f.write((value or "(null)") + "\n")
        elif p[:3] == ["bus", "pci", "drivers"] and p[4:] == ["unbind"]:
            self.unbind(p[3], value)
        elif p[:3] == ["bus", "pci", "drivers"] and p[4:] == ["bind"]:
            self.bind(p[3], value)
        elif rel == "bus/pci/drivers_probe":
            self.probe(value)
        else:
            self.log(f"BUG: a write the kernel does not expect: {step}")
        if self.cfg.get("signal_after") == step:
            os.kill(os.getpid(), signal.SIGINT)

    def unbind(self, driver, addr):
        if self.driver_of(addr) != driver:
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        if driver == "vfio-pci" and os.path.exists(self.cfg["qemu_running"]):
            self.log("BUG: unbind from vfio-pci while QEMU holds the device")
        os.unlink(f"{self.sys}/bus/pci/devices/{addr}/driver")
        os.unlink(f"{self.sys}/bus/pci/drivers/{driver}/{addr}")
        if driver == "vfio-pci":
            group = self.group_of(addr)
            members = os.listdir(f"{self.sys}/kernel/iommu_groups/{group}/devices")
            if not any(self.driver_of(a) == "vfio-pci" for a in members):
                os.unlink(f"{self.dev}/vfio/{group}")

    def override(self, addr):
        with open(f"{self.sys}/bus/pci/devices/{addr}/driver_override") as f:
            override = f.read().strip()
        return None if override == "(null)" else override

    def probe(self, addr):
        if self.driver_of(addr):
            return
        driver = self.override(addr) or self.cfg["native"].get(addr)
        if not driver or not os.path.isdir(f"{self.sys}/bus/pci/drivers/{driver}"):
            return
        if [addr, driver] in self.cfg.get("probe_fails", []):
            return  # the driver's probe failed: the write succeeds, nothing binds
        if [addr, driver] in self.cfg.get("probe_late", []):
            self.late.append((addr, driver))  # it binds, but only after the tool's wait
            return
        self.attach(addr, driver)

    def finish_late(self):
        for addr, driver in self.late:
            self.log(f"kernel: {driver} took {addr} late")
            self.attach(addr, driver)
        self.late = []

    def bind(self, driver, addr):
        """drivers/X/bind: EBUSY if the device has a driver, ENODEV if X does
        not match it (driver_override names another) or X's probe fails."""
        if self.driver_of(addr):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        if (self.override(addr) or driver) != driver or \
                [addr, driver] in self.cfg.get("probe_fails", []):
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        self.attach(addr, driver)

    def attach(self, addr, driver):
        os.symlink(f"../../../bus/pci/drivers/{driver}", f"{self.sys}/{DEVICES}/{addr}/driver")
        os.symlink(f"../../../../{DEVICES}/{addr}", f"{self.sys}/bus/pci/drivers/{driver}/{addr}")
        if driver == "vfio-pci":
            os.makedirs(f"{self.dev}/vfio", exist_ok=True)
            open(f"{self.dev}/vfio/{self.group_of(addr)}", "w").close()


def child(cfg_path, args):
    """Run tools/passthrough in this process with the fake kernel behind it."""
    with open(cfg_path) as f:
        cfg = json.load(f)
    loader = importlib.machinery.SourceFileLoader("passthrough", TOOL)
    spec = importlib.util.spec_from_loader("passthrough", loader)
    tool = importlib.util.module_from_spec(spec)
    loader.exec_module(tool)
    kernel = FakeKernel(cfg, tool.write_file)
    tool.write_file = kernel.write
    tool.is_root = lambda: cfg["root"]
    tool.BIND_WAIT_S = WAIT_S
    if cfg.get("probe_late"):
        # A late probe lands right after the tool's bounded wait gave up on it.
        wait = tool.Machine.wait_driver

        def wait_then_late(m, *a, **k):
            have = wait(m, *a, **k)
            kernel.finish_late()
            return have
        tool.Machine.wait_driver = wait_then_late
    if cfg.get("relay_fails_at"):
        # A bug in the tool once QEMU runs: the second output relay fails to
        # start, after QEMU has logged the line named.
        start = tool.Relay.start

        def failing_start(relay):
            if relay.fd != 2:
                return start(relay)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with open(cfg["log"]) as f:
                    if cfg["relay_fails_at"] + "\n" in f.read():
                        break
                time.sleep(0.02)
            raise RuntimeError("test: the relay did not start")
        tool.Relay.start = failing_start
    return tool.main(args)


def plain_write(path, text):
    """The tool's write_file, for the by-hand lines: one write(2), no O_CREAT."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# The fake QEMU: logs its start, which driver each -device vfio-pci host has
# then, and how it ends. qemu.mode: "exit N" now, or "wait" for a signal;
# then optionally "noconsole" (the guest prints nothing), "partial" (its last
# line has no newline) and "error" (QEMU prints an error on stderr first).
# qemu.running holds its pid while it runs. Like QEMU, it outlives a closed
# stdout (the tool killed): one os.write per line, errors ignored.
FAKE_QEMU = r'''#!PYTHON
import ctypes, json, os, re, signal, sys, time
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: never a core file, whatever kills it
here = os.path.dirname(os.path.abspath(__file__))
def say(line):
    with open(os.path.join(here, "log"), "a") as f:
        f.write(line + "\n")
with open(os.path.join(here, "qemu.argv"), "w") as f:
    json.dump(sys.argv[1:], f)
with open(os.path.join(here, "qemu.running"), "w") as f:
    f.write(str(os.getpid()))
def end(status, why):
    os.unlink(os.path.join(here, "qemu.running"))
    say(why)
    os._exit(status)
def stopped(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    end(0, "qemu stopped by a signal")
signal.signal(signal.SIGINT, stopped)
signal.signal(signal.SIGTERM, stopped)
say("qemu start")
hosts = []
for a in sys.argv:
    m = re.match(r"vfio-pci,host=([^,]+)", a)
    if m:
        hosts.append(a)
        link = os.path.join(here, "sys/bus/pci/devices", m.group(1), "driver")
        drv = os.path.basename(os.readlink(link)) if os.path.islink(link) else "none"
        say(f"qemu: {m.group(1)} is on {drv}")
mode = open(os.path.join(here, "qemu.mode")).read().split()
def out(fd, text):
    try:
        os.write(fd, text.encode())
    except OSError:
        pass
if "error" in mode:
    out(2, f"qemu-system-x86_64: -device {hosts[0]}: vfio {hosts[0][14:26]}: failed to "
        "setup container for group 14: Failed to set iommu for container: Operation "
        "not permitted\n")
if "noconsole" not in mode:
    out(1, "ixmetal: (the fake QEMU's console)" + ("" if "partial" in mode else "\n"))
if mode[0] == "exit":
    end(int(mode[1]), f"qemu exit {mode[1]}")
while True:
    time.sleep(1)
'''


# --- the fake tree ------------------------------------------------------------------

class Tree:
    """A temporary directory: sys/ laid out like /sys, dev/ like /dev, the
    fake QEMU, an image file, and the log both fakes write to."""

    def __init__(self):
        self.top = tempfile.mkdtemp(prefix="ixmetal-passthrough-")
        self.sys, self.dev = f"{self.top}/sys", f"{self.top}/dev"
        self.log = f"{self.top}/log"
        self.native = {}
        for d in ("bus/pci/devices", "bus/pci/drivers", "kernel/iommu_groups", DEVICES,
                  "module/kvm_intel"):
            os.makedirs(f"{self.sys}/{d}")
        open(f"{self.sys}/bus/pci/drivers_probe", "w").close()
        os.makedirs(f"{self.dev}/vfio")
        for f in ("kvm", "vfio/vfio"):
            open(f"{self.dev}/{f}", "w").close()
        open(f"{self.top}/log", "w").close()
        open(f"{self.top}/ixmetal.elf", "w").close()
        self.qemu = f"{self.top}/qemu"
        with open(self.qemu, "w") as f:
            f.write(FAKE_QEMU.replace("PYTHON", sys.executable, 1))
        os.chmod(self.qemu, 0o755)
        self.qemu_mode("exit 1")
        self.driver("vfio-pci")

    def qemu_mode(self, mode):
        with open(f"{self.top}/qemu.mode", "w") as f:
            f.write(mode)

    def driver(self, name):
        d = f"{self.sys}/bus/pci/drivers/{name}"
        if not os.path.isdir(d):
            os.makedirs(d)
            for f in ("bind", "unbind", "new_id"):
                open(f"{d}/{f}", "w").close()

    def device(self, addr, ids="8086:10fb", cls="0x020000", driver=None, group=None,
               ifaces=()):
        d = f"{self.sys}/{DEVICES}/{addr}"
        os.makedirs(d)
        vendor, device = ids.split(":")
        for name, value in (("vendor", "0x" + vendor), ("device", "0x" + device),
                            ("class", cls), ("driver_override", "(null)")):
            with open(f"{d}/{name}", "w") as f:
                f.write(value + "\n")
        os.symlink(f"../../../{DEVICES}/{addr}", f"{self.sys}/bus/pci/devices/{addr}")
        if driver:
            self.driver(driver)
            os.symlink(f"../../../bus/pci/drivers/{driver}", f"{d}/driver")
            os.symlink(f"../../../../{DEVICES}/{addr}",
                       f"{self.sys}/bus/pci/drivers/{driver}/{addr}")
            if driver != "vfio-pci":
                self.native[addr] = driver
        if group is not None:
            g = f"{self.sys}/kernel/iommu_groups/{group}/devices"
            os.makedirs(g, exist_ok=True)
            os.symlink(f"../../../../{DEVICES}/{addr}", f"{g}/{addr}")
            os.symlink(f"../../../kernel/iommu_groups/{group}", f"{d}/iommu_group")
        for name, up in ifaces:
            os.makedirs(f"{d}/net/{name}")
            with open(f"{d}/net/{name}/flags", "w") as f:
                f.write("0x1003\n" if up else "0x1002\n")

    def standard(self, up=()):
        """A workstation: an 82599's two ports in IOMMU group 14 with their
        root port; the onboard NIC (up) and the GPU in groups of their own."""
        self.device("0000:00:01.0", "8086:1901", "0x060400", "pcieport", 14)
        self.device("0000:00:02.0", "8086:3e92", "0x030000", "i915", 2)
        self.device("0000:00:1f.6", "8086:15bb", "0x020000", "e1000e", 9, [("eno1", True)])
        self.device("0000:03:00.0", "8086:10fb", "0x020000", "ixgbe", 14,
                    [("enp3s0f0", "enp3s0f0" in up)])
        self.device("0000:03:00.1", "8086:10fb", "0x020000", "ixgbe", 14,
                    [("enp3s0f1", "enp3s0f1" in up)])
        return self

    def driver_of(self, addr):
        link = f"{self.sys}/bus/pci/devices/{addr}/driver"
        return os.path.basename(os.readlink(link)) if os.path.islink(link) else None

    def state(self, addr):
        with open(f"{self.sys}/bus/pci/devices/{addr}/driver_override") as f:
            return f"{addr} {self.driver_of(addr) or 'none'} override={f.read().strip()}"

    def run(self, args, root=True, signal_at=None, sig=None, group_signal=False, **cfg):
        """Runs the tool; with signal_at, sends sig once that line is in the log
        (to the process group: Ctrl-C; or to the tool alone: kill)."""
        cfg.update(sys=self.sys, dev=self.dev, log=self.log, root=root, native=self.native,
                   qemu_running=f"{self.top}/qemu.running")
        with open(f"{self.top}/config.json", "w") as f:
            json.dump(cfg, f)
        argv = [sys.executable, os.path.abspath(__file__), "--fake-kernel",
                f"{self.top}/config.json", "--sysfs", self.sys, "--dev", self.dev,
                "--qemu", self.qemu, "--kernel", f"{self.top}/ixmetal.elf"] + args
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             cwd=self.top)
        if signal_at:
            deadline = time.monotonic() + 20
            while signal_at not in self.log_lines() and time.monotonic() < deadline:
                time.sleep(0.02)
            if group_signal:
                os.killpg(p.pid, sig)
            else:
                p.send_signal(sig)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            err += "\n(the test killed it after 30 s)"
        t = lambda s: s.replace(self.top, "T").splitlines()
        return p.returncode, t(out), t(err)

    def log_lines(self):
        with open(self.log) as f:
            return [l.replace(self.top, "T") for l in f.read().splitlines()]

    def qemu_argv(self):
        try:
            with open(f"{self.top}/qemu.argv") as f:
                return [a.replace(self.top, "T") for a in json.load(f)]
        except OSError:
            return None

    def qemu_pid(self):
        """The fake QEMU's pid while it runs (it outlives a killed tool)."""
        try:
            with open(f"{self.top}/qemu.running") as f:
                pid = int(f.read())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return pid if self.qemu.encode() in f.read() else None
        except (OSError, ValueError):
            return None

    def stop_qemu(self):
        """What a person does first after the tool was killed: stop QEMU."""
        pid = self.qemu_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while os.path.exists(f"{self.top}/qemu.running") and time.monotonic() < deadline:
                time.sleep(0.02)

    def by_hand(self, line):
        """Does what `sh` would with a by-hand line of the tool's (`  sudo sh -c
        'CMD; CMD; ...'`, as printed) through the fake kernel, as it behaves
        now (no errors injected): each `echo [V] [2>/dev/null] > P` and
        `[ -e P ] || echo ...`. The kernel resolves .../driver/unbind through
        the driver link. Returns what the shell would print on stderr."""
        words = shlex.split(line)
        if words[:3] != ["sudo", "sh", "-c"] or len(words) != 4:
            return [f"not a sudo sh -c line: {line}"]
        syntax = subprocess.run(["sh", "-n", "-c", words[3]], capture_output=True, text=True)
        if syntax.returncode or syntax.stderr:
            return [f"sh -n: {syntax.stderr.strip()}"]
        with open(f"{self.top}/config.json") as f:
            cfg = json.load(f)
        for k in ("write_errors", "probe_fails", "probe_late", "signal_after"):
            cfg.pop(k, None)
        kernel = FakeKernel(cfg, plain_write)
        real = lambda p: self.top + p[1:] if p.startswith("T/") else p
        said = []
        for cmd in words[3].split("; "):
            m = re.fullmatch(r"(?:\[ -e (\S+) \] \|\| )?echo(?: (\S+))?( 2>/dev/null)? > (\S+)",
                             cmd)
            if not m:
                said.append(f"(not understood: {cmd})")
                continue
            test, value, quiet, path = m.groups()
            if test and os.path.exists(real(test)):
                continue
            path = real(path)
            if path.endswith("/driver/unbind"):
                link = os.path.dirname(path)
                if not os.path.islink(link):
                    if not quiet:
                        said.append(f"sh: cannot create {path}: Directory nonexistent")
                    continue
                rel = os.path.relpath(os.path.realpath(link), os.path.realpath(self.sys))
                path = f"{self.sys}/{rel}/unbind"
            try:
                kernel.write(path, (value or "") + "\n")
            except OSError as e:
                if not quiet:
                    said.append(f"sh: write error: {e.strerror}")
        return [l.replace(self.top, "T") for l in said]

    def kill_qemu(self):
        """A fake QEMU a killed tool left running is not left behind."""
        pid = self.qemu_pid()
        if pid:
            os.kill(pid, signal.SIGKILL)

    def cleanup(self):
        self.kill_qemu()
        shutil.rmtree(self.top, ignore_errors=True)


# --- checking -------------------------------------------------------------------------

class Check:
    def __init__(self):
        self.problems = []

    def equal(self, what, got, want):
        if got == want:
            return
        if isinstance(want, list) and isinstance(got, list):
            self.problems.append(f"{what}: not as expected; got:")
            self.problems += ["  | " + str(l) for l in got]
            self.problems.append("  wanted:")
            self.problems += ["  | " + str(l) for l in want]
        else:
            self.problems.append(f"{what}: got {got!r}, wanted {want!r}")


def bind_steps(addr, driver="ixgbe"):
    steps = [f"echo vfio-pci > bus/pci/devices/{addr}/driver_override"]
    if driver:
        steps.append(f"echo {addr} > bus/pci/drivers/{driver}/unbind")
    return steps + [f"echo {addr} > bus/pci/drivers_probe"]


def give_back_steps(addr, driver="ixgbe", on_vfio=True):
    return ((["echo %s > bus/pci/drivers/vfio-pci/unbind" % addr] if on_vfio else [])
            + [f"echo > bus/pci/devices/{addr}/driver_override"]
            + ([f"echo {addr} > bus/pci/drivers_probe"] if driver else []))


def recipe(addr, driver="ixgbe"):
    """The by-hand line the tool prints for a device that had this driver."""
    s = "T/sys/bus/pci"
    steps = [f"echo {addr} 2>/dev/null > {s}/devices/{addr}/driver/unbind",
             f"echo > {s}/devices/{addr}/driver_override"]
    if driver:
        steps += [f"echo {addr} > {s}/drivers_probe",
                  f"[ -e {s}/drivers/{driver}/{addr} ] || echo {addr} > {s}/drivers/{driver}/bind"]
    return "  sudo sh -c '" + "; ".join(steps) + "'"


BY_HAND = "if this tool is killed (SIGKILL, out of memory), stop QEMU, then give the devices " \
          "back by hand:"
CONSOLE = "ixmetal: (the fake QEMU's console)"


def printed(steps, sys_root="T/sys"):
    """Log lines as the tool prints them: indented, with the full path."""
    return [re.sub(r"> ", f"> {sys_root}/", "  " + s, count=1) for s in steps]


def wait_line(addr, driver, group=None):
    return (f"  wait up to {WAIT_S:g} s for the driver link T/sys/bus/pci/devices/{addr}/driver"
            f" to name {driver}" + (f", and for T/dev/vfio/{group}" if group else ""))


QEMU_ARGS = ["-accel", "kvm", "-cpu", "host", "-M", "q35", "-m", "512M", "-smp", "2",
             "-nographic", "-no-reboot", "-nic", "none",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", "T/ixmetal.elf"]
TWO_PORTS = ["-device", "vfio-pci,host=0000:03:00.0,addr=3",
             "-device", "vfio-pci,host=0000:03:00.1,addr=4"]
A, B = "0000:03:00.0", "0000:03:00.1"
HEADER = [
    "IOMMU: on, 3 groups in T/sys/kernel/iommu_groups",
    f"{A} 8086:10fb class 0x020000, driver ixgbe, interface enp3s0f0 (down), IOMMU group 14; "
    "ixmetal drives it with ixgbe",
    f"{B} 8086:10fb class 0x020000, driver ixgbe, interface enp3s0f1 (down), IOMMU group 14; "
    "ixmetal drives it with ixgbe",
    f"IOMMU group 14: 0000:00:01.0 (PCI bridge, stays with the host), {A}, {B}",
    "accel: kvm (kvm_intel is loaded)",
    f"in the guest: {A} is 0000:00:03.0, {B} is 0000:00:04.0",
]
REFUSED_END = "passthrough: nothing was changed"
BOTH_BY_HAND = [BY_HAND, recipe(A), recipe(B)]
ALL_BACK = [f"{A} ixgbe override=(null)", f"{B} ixgbe override=(null)"]


def both_bound_then_qemu(status_line):
    return (bind_steps(A) + bind_steps(B)
            + ["qemu start", f"qemu: {A} is on vfio-pci", f"qemu: {B} is on vfio-pci", status_line]
            + give_back_steps(B) + give_back_steps(A))


def refusal(t, args, stderr, root=True):
    """A refused run: status 2, these exact lines on stderr, nothing written."""
    c = Check()
    status, out, err = t.run(args, root=root)
    c.equal("exit status", status, 2)
    c.equal("stderr", err, [f"passthrough: {l}" for l in stderr] + [REFUSED_END])
    c.equal("stdout", out, [])
    c.equal("the log (every write, QEMU)", t.log_lines(), [])
    return c


# --- the cases --------------------------------------------------------------------------

def t_two_ports():
    """Both ports of one group (with its root port): bound in order, QEMU sees
    them on vfio-pci, given back in reverse; QEMU's exit status passes through."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "0000:03:00.1", "--", "app=fwd", "idle=0"])
    c.equal("exit status", status, 1)
    c.equal("the log (every write, QEMU)", t.log_lines(), both_bound_then_qemu("qemu exit 1"))
    c.equal("QEMU's arguments", t.qemu_argv(), QEMU_ARGS + ["-append", "app=fwd idle=0"] + TWO_PORTS)
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    c.equal("/dev/vfio/14 afterwards", os.path.exists(f"{t.dev}/vfio/14"), False)
    c.equal("stderr", err, [])
    cmd = " ".join(["T/qemu"] + QEMU_ARGS + ["-append", "'app=fwd idle=0'"] + TWO_PORTS)
    c.equal("stdout", out, HEADER + BOTH_BY_HAND + [
        f"binding {A} to vfio-pci (from ixgbe)"] + printed(bind_steps(A)) + [
        wait_line(A, "vfio-pci", 14),
        f"binding {B} to vfio-pci (from ixgbe)"] + printed(bind_steps(B)) + [
        wait_line(B, "vfio-pci", 14),
        "QEMU:", "  " + cmd,
        "--- the guest's serial console; Ctrl-A X or Ctrl-C stops QEMU ---",
        CONSOLE,
        "QEMU exit status 1: ixmetal powered off cleanly",
        f"giving {B} back to ixgbe"] + printed(give_back_steps(B)) + [
        wait_line(B, "ixgbe"),
        f"giving {A} back to ixgbe"] + printed(give_back_steps(A)) + [
        wait_line(A, "ixgbe"),
        f"every device is back: {A} on ixgbe, {B} on ixgbe"])
    return t, c


def t_end_halt_note():
    """A boot menu line with end=halt after --: said before anything runs,
    since QEMU then outlives the app."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["--dry-run", "03:00.0", "03:00.1", "--", "app=selftest",
                              "end=halt"], root=False)
    c.equal("exit status", status, 0)
    c.equal("the note", [l for l in out if l.startswith("note: end=halt")],
            ["note: end=halt: ixmetal halts when the app is done and QEMU keeps running; "
             "Ctrl-C (or Ctrl-A X) stops it, then the devices go back"])
    c.equal("the log (every write, QEMU)", t.log_lines(), [])
    return t, c


def t_dry_run():
    """--dry-run, not root: the same steps printed, nothing written, no QEMU."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["--dry-run", "03:00.0", "03:00.1"], root=False)
    c.equal("exit status", status, 0)
    c.equal("the log (every write, QEMU)", t.log_lines(), [])
    c.equal("QEMU ran", t.qemu_argv() is not None, False)
    c.equal("the devices afterwards", [t.state(A), t.state(B)],
            [f"{A} ixgbe override=(null)", f"{B} ixgbe override=(null)"])
    c.equal("stderr", err, [])
    cmd = " ".join(["T/qemu"] + QEMU_ARGS + ["-append", "app=info"] + TWO_PORTS)
    c.equal("stdout", out, HEADER + [
        "dry run: every step is printed; nothing is written and QEMU is not started"]
        + BOTH_BY_HAND + [
        f"binding {A} to vfio-pci (from ixgbe)"] + printed(bind_steps(A)) + [
        wait_line(A, "vfio-pci", 14),
        f"binding {B} to vfio-pci (from ixgbe)"] + printed(bind_steps(B)) + [
        wait_line(B, "vfio-pci", 14),
        "QEMU:", "  " + cmd,
        f"giving {B} back to ixgbe"] + printed(give_back_steps(B)) + [
        wait_line(B, "ixgbe"),
        f"giving {A} back to ixgbe"] + printed(give_back_steps(A)) + [
        wait_line(A, "ixgbe"),
        "dry run: nothing was changed"])
    return t, c


def t_refuse_interface_up():
    t = Tree().standard(up=("enp3s0f1",))
    return t, refusal(t, ["03:00.0", "03:00.1"], [
        f"{B} carries network interface enp3s0f1, which is up: the host is using it. Take it "
        "down first (sudo ip link set enp3s0f1 down), or pass another port."])


def t_refuse_group_shared():
    """One port of two in a group: the other is named (the root port is fine)."""
    t = Tree().standard()
    return t, refusal(t, ["03:00.0"], [
        f"IOMMU group 14 of {A} also holds {B} (8086:10fb class 0x020000, driver ixgbe): "
        f"vfio-pci takes a whole group or nothing. Pass {B} too, or put the card in a slot "
        "whose group it has to itself."])


def t_refuse_no_iommu():
    t = Tree()
    t.device(A, driver="ixgbe")
    return t, refusal(t, [A], [
        "no IOMMU is on: T/sys/kernel/iommu_groups is empty or missing, and vfio-pci needs "
        "one. Enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware setup, add "
        "intel_iommu=on (Intel) or amd_iommu=on (AMD, where it is on by default: remove any "
        "amd_iommu=off or iommu=off instead) to the kernel command line (GRUB_CMDLINE_LINUX "
        "in /etc/default/grub, then update-grub), and reboot."])


def t_refuse_not_root():
    t = Tree().standard()
    return t, refusal(t, ["03:00.0", "03:00.1"], [
        "tools/passthrough must run as root: it rebinds PCI drivers. Run it with sudo, or see "
        "every step first with --dry-run (no root needed)."], root=False)


def t_refuse_no_vfio():
    t = Tree().standard()
    shutil.rmtree(f"{t.sys}/bus/pci/drivers/vfio-pci")
    return t, refusal(t, ["03:00.0", "03:00.1"],
                      ["the vfio-pci driver is not loaded: sudo modprobe vfio-pci"])


def t_refuse_several():
    """Every problem at once, in order: not a NIC, no such device, no KVM,
    no image."""
    t = Tree().standard()
    os.unlink(f"{t.dev}/kvm")
    os.unlink(f"{t.top}/ixmetal.elf")
    return t, refusal(t, ["00:02.0", "05:00.0"], [
        "0000:00:02.0 (8086:3e92) is not a network controller (class 0x030000): "
        "tools/passthrough only takes NICs; check the address with lspci -D.",
        "there is no PCI device 0000:05:00.0 on this machine (lspci -D lists them).",
        "T/dev/kvm is missing: KVM needs it. Enable VT-x (Intel) or AMD-V/SVM (AMD) in the "
        "firmware setup and load kvm_intel or kvm_amd (sudo modprobe kvm_intel); or emulate "
        "with --accel tcg (slow).",
        "T/ixmetal.elf is missing: run make first (or --kernel PATH)."])


def accel_run(t, args, root=True):
    """A dry run: the accelerator line and QEMU's -accel and -cpu."""
    status, out, err = t.run(["--dry-run"] + args + ["03:00.0", "03:00.1"], root=root)
    said = [l for l in out if l.startswith("accel: ")]
    cmd = next((l.split() for l in out if l.startswith("  T/qemu ")), [])
    return status, said, cmd[1:5], err


def t_accel_auto_kvm():
    """The default (auto) with kvm_intel loaded: KVM, -cpu host, as before --accel."""
    t = Tree().standard()
    c = Check()
    status, said, qemu, err = accel_run(t, [])
    c.equal("exit status", status, 0)
    c.equal("the accel line", said, ["accel: kvm (kvm_intel is loaded)"])
    c.equal("QEMU's -accel and -cpu", qemu, ["-accel", "kvm", "-cpu", "host"])
    return t, c


def t_accel_auto_tcg():
    """auto with neither KVM module, as in a VM: TCG, said in one line, and
    no /dev/kvm needed (there is none here)."""
    t = Tree().standard()
    os.rmdir(f"{t.sys}/module/kvm_intel")
    os.unlink(f"{t.dev}/kvm")
    c = Check()
    status, said, qemu, err = accel_run(t, [])
    c.equal("exit status", status, 0)
    c.equal("the accel line", said, [
        "accel: tcg (neither kvm_intel nor kvm_amd is loaded: emulated, slow; --accel kvm "
        "to use /dev/kvm anyway)"])
    c.equal("QEMU's -accel and -cpu", qemu, ["-accel", "tcg", "-cpu", "max"])
    c.equal("stderr", err, [])
    return t, c


def t_accel_auto_amd():
    t = Tree().standard()
    os.rename(f"{t.sys}/module/kvm_intel", f"{t.sys}/module/kvm_amd")
    c = Check()
    status, said, qemu, err = accel_run(t, [])
    c.equal("the accel line", said, ["accel: kvm (kvm_amd is loaded)"])
    c.equal("QEMU's -accel and -cpu", qemu, ["-accel", "kvm", "-cpu", "host"])
    return t, c


def t_accel_tcg():
    """--accel tcg where KVM is there: TCG all the same; /dev/kvm not needed."""
    t = Tree().standard()
    os.unlink(f"{t.dev}/kvm")
    c = Check()
    status, said, qemu, err = accel_run(t, ["--accel", "tcg"])
    c.equal("exit status", status, 0)
    c.equal("the accel line", said, ["accel: tcg (--accel tcg: emulated, slow)"])
    c.equal("QEMU's -accel and -cpu", qemu, ["-accel", "tcg", "-cpu", "max"])
    return t, c


def t_accel_kvm_without_modules():
    """--accel kvm with a /dev/kvm but no kvm_intel or kvm_amd: KVM as asked,
    with a note that it may not be hardware KVM."""
    t = Tree().standard()
    os.rmdir(f"{t.sys}/module/kvm_intel")
    c = Check()
    status, said, qemu, err = accel_run(t, ["--accel", "kvm"])
    c.equal("exit status", status, 0)
    c.equal("the accel line", said, [
        "accel: kvm (--accel kvm; note: neither kvm_intel nor kvm_amd is loaded: this "
        "/dev/kvm may not be hardware KVM, and the guest may run slowly)"])
    c.equal("QEMU's -accel and -cpu", qemu, ["-accel", "kvm", "-cpu", "host"])
    return t, c


def t_refuse_accel_kvm_no_dev_kvm():
    """--accel kvm and no /dev/kvm: refused, the way out named."""
    t = Tree().standard()
    os.unlink(f"{t.dev}/kvm")
    return t, refusal(t, ["--accel", "kvm", "03:00.0", "03:00.1"], [
        "T/dev/kvm is missing: KVM needs it. Enable VT-x (Intel) or AMD-V/SVM (AMD) in the "
        "firmware setup and load kvm_intel or kvm_amd (sudo modprobe kvm_intel); or emulate "
        "with --accel tcg (slow)."])


def t_bad_accel():
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["--accel", "hvf", "03:00.0"])
    c.equal("exit status", status, 2)
    c.equal("stderr's last line", err[-1:], [
        "tools/passthrough: error: argument --accel: invalid choice: 'hvf' (choose from "
        "'kvm', 'tcg', 'auto')"])
    c.equal("the log (every write, QEMU)", t.log_lines(), [])
    return t, c


def t_bad_address():
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "3:0.0"])
    c.equal("exit status", status, 2)
    c.equal("stderr's last line", err[-1:], [
        "tools/passthrough: error: bad PCI address '3:0.0': write it as 0000:03:00.0 or "
        "03:00.0 (lspci -D shows them)"])
    c.equal("the log (every write, QEMU)", t.log_lines(), [])
    return t, c


def t_bind_fails_half_way():
    """vfio-pci's probe fails on the second port: it goes back first, then the
    first (unbound from vfio-pci); QEMU never starts."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"], probe_fails=[[B, "vfio-pci"]])
    c.equal("exit status", status, 4)
    c.equal("the log (every write, QEMU)", t.log_lines(),
            bind_steps(A) + bind_steps(B) + give_back_steps(B, on_vfio=False)
            + give_back_steps(A))
    c.equal("stderr", err, [f"passthrough: {B} did not bind to vfio-pci within {WAIT_S:g} s "
                            "(its driver: none); dmesg says why."])
    c.equal("stdout's last line", out[-1:], [f"every device is back: {A} on ixgbe, {B} on ixgbe"])
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    return t, c


def t_write_fails_half_way():
    """Unbinding the second port from ixgbe fails (EBUSY): its override is
    cleared, it never left ixgbe; the first goes back."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"],
                             write_errors={f"echo {B} > bus/pci/drivers/ixgbe/unbind": "EBUSY"})
    c.equal("exit status", status, 4)
    c.equal("the log (every write, QEMU)", t.log_lines(),
            bind_steps(A) + bind_steps(B)[:2]
            + [f"echo > bus/pci/devices/{B}/driver_override"] + give_back_steps(A))
    c.equal("stderr", err, [f"passthrough: writing '{B}' to T/sys/bus/pci/drivers/ixgbe/unbind "
                            "failed: Device or resource busy"])
    c.equal("stdout has", [l for l in out if "never left" in l], [f"  {B} never left ixgbe"])
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    return t, c


def t_qemu_does_not_start():
    """QEMU cannot be executed (its interpreter is missing): both given back."""
    t = Tree().standard()
    with open(t.qemu, "w") as f:
        f.write("#!/nonexistent/interpreter\n")
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"])
    c.equal("exit status", status, 4)
    c.equal("the log (every write, QEMU)", t.log_lines(),
            bind_steps(A) + bind_steps(B) + give_back_steps(B) + give_back_steps(A))
    c.equal("stderr", err, ["passthrough: QEMU did not start: T/qemu: No such file or directory"])
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    return t, c


def t_bug_while_qemu_runs():
    """An unexpected error in the tool once QEMU runs: QEMU is stopped first
    (a device cannot leave vfio-pci while QEMU holds it), then both go back."""
    t = Tree().standard()
    t.qemu_mode("wait")
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"], relay_fails_at=f"qemu: {B} is on vfio-pci")
    c.equal("exit status", status, 4)
    c.equal("the log (every write, QEMU)", t.log_lines(),
            both_bound_then_qemu("qemu stopped by a signal"))
    c.equal("stderr", err, ["passthrough: RuntimeError: test: the relay did not start"])
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    return t, c


def signal_case(sig, group):
    t = Tree().standard()
    t.qemu_mode("wait")
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"], signal_at=f"qemu: {B} is on vfio-pci",
                             sig=sig, group_signal=group)
    c.equal("exit status", status, 128 + sig)
    c.equal("the log (every write, QEMU)", t.log_lines(),
            both_bound_then_qemu("qemu stopped by a signal"))
    c.equal("stderr", err, ["", f"passthrough: {signal.Signals(sig).name}: stopping, then "
                                "giving the devices back"])
    c.equal("stdout's QEMU exit line", [l for l in out if l.startswith("QEMU exit")],
            ["QEMU exit status 0: QEMU was stopped (Ctrl-A X or a signal), or ixmetal powered "
             "off through ACPI"])
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    return t, c


def t_sigint_while_qemu_runs():
    """Ctrl-C: SIGINT to the tool and QEMU (one process group)."""
    return signal_case(signal.SIGINT, True)


def t_sigterm_while_qemu_runs():
    """kill PID: SIGTERM to the tool alone, which stops QEMU."""
    return signal_case(signal.SIGTERM, False)


def t_sigquit_while_qemu_runs():
    """Ctrl-\\: SIGQUIT to the tool and QEMU. QEMU ignores it (the tool starts
    it so: it would die with a core dump and nothing said); the tool stops
    it and gives the devices back as on Ctrl-C."""
    return signal_case(signal.SIGQUIT, True)


def t_sigkill_then_by_hand():
    """SIGKILL (or the OOM killer) to the tool alone while QEMU runs: nothing
    goes back, but the lines printed before the first write do it by hand
    once QEMU is stopped."""
    t = Tree().standard()
    t.qemu_mode("wait")
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"], signal_at=f"qemu: {B} is on vfio-pci",
                             sig=signal.SIGKILL)
    c.equal("exit status", status, -signal.SIGKILL)
    cmd = " ".join(["T/qemu"] + QEMU_ARGS + ["-append", "app=info"] + TWO_PORTS)
    c.equal("stdout (the console line may not have come through yet)",
            [l for l in out if l != CONSOLE], HEADER + BOTH_BY_HAND + [
                f"binding {A} to vfio-pci (from ixgbe)"] + printed(bind_steps(A)) + [
                wait_line(A, "vfio-pci", 14),
                f"binding {B} to vfio-pci (from ixgbe)"] + printed(bind_steps(B)) + [
                wait_line(B, "vfio-pci", 14),
                "QEMU:", "  " + cmd,
                "--- the guest's serial console; Ctrl-A X or Ctrl-C stops QEMU ---"])
    c.equal("stderr", err, [])
    c.equal("the devices when the tool died", [t.state(A), t.state(B)],
            [f"{A} vfio-pci override=vfio-pci", f"{B} vfio-pci override=vfio-pci"])
    t.stop_qemu()
    before = len(t.log_lines())
    said = []
    for line in out[len(HEADER) + 1:len(HEADER) + 3]:
        said += t.by_hand(line)
    c.equal("what the shell said", said, [])
    c.equal("the log: QEMU stopped, then the by-hand writes", t.log_lines()[before - 1:], [
        "qemu stopped by a signal",
        f"echo {A} > bus/pci/drivers/vfio-pci/unbind", f"echo > bus/pci/devices/{A}/driver_override",
        f"echo {A} > bus/pci/drivers_probe",
        f"echo {B} > bus/pci/drivers/vfio-pci/unbind", f"echo > bus/pci/devices/{B}/driver_override",
        f"echo {B} > bus/pci/drivers_probe"])
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    c.equal("/dev/vfio/14 afterwards", os.path.exists(f"{t.dev}/vfio/14"), False)
    return t, c


def t_by_hand_from_every_state():
    """Each by-hand line gives its device back from every state the tool can
    leave it in: as it was; driver_override set, on its driver or none; on
    vfio-pci, driver_override set or cleared; unbound with it cleared. For
    a device with no driver before, it is left with none."""
    t = Tree().standard()
    n = "0000:04:00.0"
    t.device(n, "8086:10c9", group=15)
    c = Check()
    status, out, err = t.run(["--dry-run", A, B, n], root=False)
    lines = {l.split()[4]: l for l in out if l.startswith("  sudo sh -c")}
    c.equal("the dry run's by-hand lines", [lines.get(A), lines.get(n)],
            [recipe(A), recipe(n, None)])

    def state(addr, driver, *which):
        """A shell line that puts addr in a state, through the same fake kernel."""
        steps = {"override": f"echo vfio-pci > T/sys/bus/pci/devices/{addr}/driver_override",
                 "unbind": f"echo {addr} > T/sys/bus/pci/drivers/{driver}/unbind",
                 "probe": f"echo {addr} > T/sys/bus/pci/drivers_probe",
                 "clear": f"echo > T/sys/bus/pci/devices/{addr}/driver_override"}
        return "sudo sh -c '" + "; ".join(steps[w] for w in which) + "'" if which else None
    states = [  # (device, the state, the line that puts it there, its state then)
        (A, "as it was", state(A, "ixgbe"), "ixgbe override=(null)"),
        (A, "driver_override set, still on ixgbe", state(A, "ixgbe", "override"),
         "ixgbe override=vfio-pci"),
        (A, "driver_override set, no driver", state(A, "ixgbe", "override", "unbind"),
         "none override=vfio-pci"),
        (A, "on vfio-pci", state(A, "ixgbe", "override", "unbind", "probe"),
         "vfio-pci override=vfio-pci"),
        (A, "on vfio-pci, driver_override cleared",
         state(A, "ixgbe", "override", "unbind", "probe", "clear"), "vfio-pci override=(null)"),
        (A, "no driver, driver_override cleared", state(A, "ixgbe", "unbind"),
         "none override=(null)"),
        (n, "driver_override set", state(n, None, "override"), "none override=vfio-pci"),
        (n, "on vfio-pci", state(n, None, "override", "probe"), "vfio-pci override=vfio-pci"),
        (n, "on vfio-pci, driver_override cleared", state(n, None, "override", "probe", "clear"),
         "vfio-pci override=(null)"),
    ]
    for addr, what, put, then in states:
        said = t.by_hand(put) if put else []
        c.equal(f"{addr} put in the state ({what})", t.state(addr), f"{addr} {then}")
        said += t.by_hand(lines.get(addr, ""))
        c.equal(f"what the shell said ({addr} {what})", said, [])
        c.equal(f"{addr} after its line ({what})", t.state(addr),
                f"{addr} {'ixgbe' if addr == A else 'none'} override=(null)")
    c.equal("/dev/vfio afterwards", sorted(os.listdir(t.dev + "/vfio")), ["vfio"])
    return t, c


def t_sigint_while_binding():
    """Ctrl-C after the first port is bound: the second is never touched,
    QEMU never starts, the first goes back."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"],
                             signal_after=f"echo {A} > bus/pci/drivers_probe")
    c.equal("exit status", status, 128 + signal.SIGINT)
    c.equal("the log (every write, QEMU)", t.log_lines(), bind_steps(A) + give_back_steps(A))
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    return t, c


def t_no_driver_before():
    """A device no driver had: bound without an unbind, left without a driver
    afterwards; the app's failure status (3) passes through."""
    t = Tree()
    t.device("0000:04:00.0", "8086:10c9", group=15)
    t.qemu_mode("exit 3")
    c = Check()
    status, out, err = t.run(["04:00.0", "--", "app=selftest"])
    c.equal("exit status", status, 3)
    d = "0000:04:00.0"
    c.equal("the log (every write, QEMU)", t.log_lines(),
            bind_steps(d, None) + ["qemu start", f"qemu: {d} is on vfio-pci", "qemu exit 3"]
            + give_back_steps(d, None))
    c.equal("the device afterwards", t.state(d), f"{d} none override=(null)")
    c.equal("stdout but the steps", [l for l in out if not l.startswith(("  echo", "  wait"))], [
        "IOMMU: on, 1 group in T/sys/kernel/iommu_groups",
        f"{d} 8086:10c9 class 0x020000, driver (none), IOMMU group 15; ixmetal drives it with igb",
        f"IOMMU group 15: {d}",
        "accel: kvm (kvm_intel is loaded)",
        f"in the guest: {d} is 0000:00:03.0",
        BY_HAND, recipe(d, None),
        f"binding {d} to vfio-pci (from no driver)",
        "QEMU:",
        "  " + " ".join(["T/qemu"] + QEMU_ARGS + ["-append", "app=selftest",
                                                 "-device", f"vfio-pci,host={d},addr=3"]),
        "--- the guest's serial console; Ctrl-A X or Ctrl-C stops QEMU ---",
        "ixmetal: (the fake QEMU's console)",
        "QEMU exit status 3: ixmetal's app failed (its last lines say why)",
        f"giving {d} back (it had no driver)",
        f"  {d} had no driver before: it is left without one",
        f"every device is back: {d} without a driver, as before"])
    return t, c


def t_already_on_vfio():
    """Ports someone bound to vfio-pci by hand: used, not touched, left so."""
    t = Tree()
    t.device(A, driver="vfio-pci", group=14)
    t.device(B, driver="vfio-pci", group=14)
    open(f"{t.dev}/vfio/14", "w").close()
    c = Check()
    status, out, err = t.run([A, B])
    c.equal("exit status", status, 1)
    c.equal("the log (every write, QEMU)", t.log_lines(),
            ["qemu start", f"qemu: {A} is on vfio-pci", f"qemu: {B} is on vfio-pci", "qemu exit 1"])
    c.equal("stdout has", [l for l in out if "already" in l],
            [f"{A} is on vfio-pci already: left as it is, now and after",
             f"{B} is on vfio-pci already: left as it is, now and after"])
    return t, c


def t_give_back_fails():
    """ixgbe does not take the second port back: the tool says how to do it
    by hand, still gives the first back, and exits 6."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"], probe_fails=[[B, "ixgbe"]])
    c.equal("exit status", status, 6)
    c.equal("the log (every write, QEMU)", t.log_lines(), both_bound_then_qemu("qemu exit 1"))
    c.equal("stderr", err, [f"passthrough: ixgbe did not take {B} back within {WAIT_S:g} s; "
                            f"{B} has no driver, not back on ixgbe. By hand:", recipe(B)])
    c.equal("the devices afterwards", [t.state(A), t.state(B)],
            [f"{A} ixgbe override=(null)", f"{B} none override=(null)"])
    by_hand_brings_back(t, c, err[-1], [f"echo > bus/pci/devices/{B}/driver_override",
                                        f"echo {B} > bus/pci/drivers_probe"])
    return t, c


def by_hand_brings_back(t, c, line, writes):
    """The by-hand line the tool printed: these writes, and both ports back."""
    before = len(t.log_lines())
    c.equal("what the by-hand line's shell said", t.by_hand(line), [])
    c.equal("the by-hand line's writes", t.log_lines()[before:], writes)
    c.equal("the devices after the by-hand line", [t.state(A), t.state(B)], ALL_BACK)


def t_vfio_unbind_fails_on_give_back():
    """Unbinding the second port from vfio-pci fails (EBUSY): its override is
    still cleared, the first port goes back, and the tool says where the
    second is and prints its by-hand line; exit 6."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"],
                             write_errors={f"echo {B} > bus/pci/drivers/vfio-pci/unbind": "EBUSY"})
    c.equal("exit status", status, 6)
    c.equal("the log (every write, QEMU)", t.log_lines(),
            both_bound_then_qemu("qemu exit 1")[:-6] + give_back_steps(B)[:2]
            + give_back_steps(A))
    c.equal("stderr", err, [
        f"passthrough: writing '{B}' to T/sys/bus/pci/drivers/vfio-pci/unbind failed: Device or "
        f"resource busy; {B} is on vfio-pci, not back on ixgbe. By hand:", recipe(B)])
    c.equal("the devices afterwards", [t.state(A), t.state(B)],
            [f"{A} ixgbe override=(null)", f"{B} vfio-pci override=(null)"])
    by_hand_brings_back(t, c, err[-1], give_back_steps(B))
    return t, c


def t_override_write_fails_on_give_back():
    """Clearing the second port's driver_override fails: it is off vfio-pci
    but not probed (vfio-pci would take it again); exit 6 and its line."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"],
                             write_errors={f"echo > bus/pci/devices/{B}/driver_override": "EIO"})
    c.equal("exit status", status, 6)
    c.equal("the log (every write, QEMU)", t.log_lines(),
            both_bound_then_qemu("qemu exit 1")[:-6] + give_back_steps(B)[:2]
            + give_back_steps(A))
    c.equal("stderr", err, [
        f"passthrough: writing '' to T/sys/bus/pci/devices/{B}/driver_override failed: "
        f"Input/output error; {B} has no driver and driver_override vfio-pci, not back on "
        "ixgbe. By hand:", recipe(B)])
    c.equal("the devices afterwards", [t.state(A), t.state(B)],
            [f"{A} ixgbe override=(null)", f"{B} none override=vfio-pci"])
    by_hand_brings_back(t, c, err[-1], give_back_steps(B)[1:])
    return t, c


def t_probe_write_fails_on_give_back():
    """The give-back's drivers_probe write for the second port fails: it has
    no driver now, and the tool says so with its line; exit 6."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"],
                             write_errors={f"echo {B} > bus/pci/drivers_probe": "EIO#2"})
    c.equal("exit status", status, 6)
    c.equal("the log (every write, QEMU)", t.log_lines(), both_bound_then_qemu("qemu exit 1"))
    c.equal("stderr", err, [
        f"passthrough: writing '{B}' to T/sys/bus/pci/drivers_probe failed: Input/output error; "
        f"{B} has no driver, not back on ixgbe. By hand:", recipe(B)])
    c.equal("the devices afterwards", [t.state(A), t.state(B)],
            [f"{A} ixgbe override=(null)", f"{B} none override=(null)"])
    by_hand_brings_back(t, c, err[-1], give_back_steps(B)[1:])
    return t, c


def t_vfio_binds_late():
    """vfio-pci takes the second port only after the tool stopped waiting:
    binding fails (exit 4), and the give-back unbinds it from vfio-pci, where
    its driver link says it is, so ixgbe gets it back."""
    t = Tree().standard()
    c = Check()
    status, out, err = t.run(["03:00.0", "03:00.1"], probe_late=[[B, "vfio-pci"]])
    c.equal("exit status", status, 4)
    c.equal("the log (every write, QEMU)", t.log_lines(),
            bind_steps(A) + bind_steps(B) + [f"kernel: vfio-pci took {B} late"]
            + give_back_steps(B) + give_back_steps(A))
    c.equal("stderr", err, [f"passthrough: {B} did not bind to vfio-pci within {WAIT_S:g} s "
                            "(its driver: none); dmesg says why."])
    c.equal("stdout's last line", out[-1:], [f"every device is back: {A} on ixgbe, {B} on ixgbe"])
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    c.equal("/dev/vfio/14 afterwards", os.path.exists(f"{t.dev}/vfio/14"), False)
    return t, c


def qemu_exit_1(mode, status, err_want, exit_line):
    t = Tree().standard()
    t.qemu_mode(mode)
    c = Check()
    got, out, err = t.run(["03:00.0", "03:00.1"])
    c.equal("exit status", got, status)
    c.equal("the log (every write, QEMU)", t.log_lines(), both_bound_then_qemu("qemu exit 1"))
    c.equal("stderr", err, err_want)
    c.equal("stdout after QEMU's command", out[out.index("--- the guest's serial console; "
                                                         "Ctrl-A X or Ctrl-C stops QEMU ---") + 1:],
            ([] if "noconsole" in mode else [CONSOLE]) + [exit_line, f"giving {B} back to ixgbe"]
            + printed(give_back_steps(B)) + [wait_line(B, "ixgbe"), f"giving {A} back to ixgbe"]
            + printed(give_back_steps(A)) + [wait_line(A, "ixgbe"),
                                              f"every device is back: {A} on ixgbe, {B} on ixgbe"])
    c.equal("the devices afterwards", [t.state(A), t.state(B)], ALL_BACK)
    return t, c


QEMU_ERROR = ("qemu-system-x86_64: -device vfio-pci,host=0000:03:00.0,addr=3: vfio 0000:03:00.0: "
              "failed to setup container for group 14: Failed to set iommu for container: "
              "Operation not permitted")


def t_qemu_fails_to_start():
    """QEMU exits 1 with an error on stderr before the guest printed anything:
    it did not start, so exit 4, not ixmetal's clean power-off (1)."""
    return qemu_exit_1("exit 1 noconsole error", 4, [QEMU_ERROR],
                       "QEMU exit status 1 before the guest printed anything: QEMU did not start "
                       "(its error is above)")


def t_qemu_error_then_power_off():
    """The guest printed, QEMU printed an error, then exit 1: a clean power-off."""
    return qemu_exit_1("exit 1 error", 1, [QEMU_ERROR],
                       "QEMU exit status 1: ixmetal powered off cleanly")


def t_console_ends_mid_line():
    """The guest's last line has no newline: the tool's next line starts on
    a line of its own."""
    return qemu_exit_1("exit 1 partial", 1, [], "QEMU exit status 1: ixmetal powered off cleanly")


def t_qemu_exit_1_silent():
    """Exit 1 and neither QEMU nor the guest printed anything: both are said."""
    return qemu_exit_1("exit 1 noconsole", 1, [],
                       "QEMU exit status 1: ixmetal powered off cleanly, or QEMU did not start "
                       "(neither printed anything)")


def t_driver_table():
    """The tool's list of devices ixmetal drives matches the drivers' tables."""
    c = Check()
    src = lambda p: open(os.path.join(ROOT, p)).read()
    want = {("8086", d.lower()): "ixgbe"
            for d in re.findall(r'\{ 0x([0-9A-Fa-f]{4}), "', src("driver/ixgbe.c"))}
    for d in re.findall(r"device == 0x([0-9A-Fa-f]{4})", src("driver/igb.c")):
        want[("8086", d.lower())] = "igb"
    virtio = re.search(r"virtio_net_supports[^{]*\{(.*?)\n\}", src("driver/nic.c"), re.S).group(1)
    for d in re.findall(r"device == 0x([0-9A-Fa-f]{4})", virtio):
        want[("1af4", d.lower())] = "virtio-net"
    loader = importlib.machinery.SourceFileLoader("passthrough", TOOL)
    spec = importlib.util.spec_from_loader("passthrough", loader)
    tool = importlib.util.module_from_spec(spec)
    loader.exec_module(tool)
    c.equal("tools/passthrough's IXMETAL_DRIVERS", sorted(tool.IXMETAL_DRIVERS.items()),
            sorted(want.items()))
    return None, c


CASES = [(name[2:].replace("_", "-"), fn) for name, fn in list(globals().items())
         if name.startswith("t_") and callable(fn)]


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--fake-kernel":
        return child(sys.argv[2], sys.argv[3:])
    only = sys.argv[1] if len(sys.argv) > 1 else None
    failed = 0
    for name, fn in CASES:
        if only and only not in name:
            continue
        tree = None
        try:
            tree, c = fn()
            problems = c.problems
            if problems and tree is not None:
                tree.kill_qemu()
                problems.append(f"(tree kept: {tree.top})")
                tree = None
        except Exception as e:  # a broken case is a failure, not a crash
            problems = [f"{type(e).__name__}: {e}"]
        if tree is not None:
            tree.cleanup()
        if problems:
            failed += 1
            print(f"FAIL {PROGRAM}: {name}")
            for p in problems:
                print(f"     {p}")
        else:
            print(f"PASS {PROGRAM}: {name}")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
