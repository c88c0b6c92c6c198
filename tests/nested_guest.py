#!/usr/bin/env python3
"""tests/nested_guest.py - the nested passthrough test's program inside L1.

tests/nested.py boots a Linux VM (L1, tools/nested-image.sh) and gives it
this file as /ixm/init, tools/passthrough as /ixm/tools/passthrough (so its
default image, /ixm/build/ixmetal.elf, is the run's) and a plan,
/ixm/plan.json: a list of steps, each [KIND, ARGS...]. It runs them in order
and reports on the serial console what it did and what L1's sysfs says;
tests/nested.py, outside, judges. It judges nothing itself, so that every
expected value is in one place.

Steps and what each prints ("nested: " lines; anything else is the output of
tools/passthrough and of the ixmetal it boots, passed on as it comes):
  ["state", LABEL, ADDR...]
                         state LABEL: ADDR driver=D override=O group=G vfio=V ifaces=I
                         (D none, O (null) when unset, V: /dev/vfio/G is there,
                         I: NAME:up|down,... or none)
  ["insmod", NAME...]    insmod NAME: ok | insmod NAME: failed (ERROR)
  ["unbind", ADDR]       unbind ADDR from DRIVER: ok | ...: failed (ERROR)
  ["hugepages", DIR]     hugepages DIR: N of 1 GiB free (hugetlbfs mounted there)
  ["write", PATH, VALUE]  write VALUE > PATH: ok
  ["link", ADDR, "up"|"down"]
                         link NAME up: carrier after S s | link NAME up: no carrier
                         within S s | link NAME down | link ADDR: no interface
  ["run", NAME, SECONDS, AT, SIGNAL, ARG...]
                         begin NAME: tools/passthrough ARGS; then, when a line
                         matching the regular expression AT comes (if AT), the
                         state of each device (as `state`, prefixed "during NAME:")
                         and SIGNAL (INT: to the process group, as Ctrl-C does;
                         TERM: to the tool alone, as kill does; "" none); then
                         exit NAME STATUS in S s (or: NAME still running after
                         SECONDS s: killed)
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

TOOL = "/ixm/tools/passthrough"
BUSYBOX = "/bin/busybox"  # L1's insmod and ip (busybox-static, tools/nested-image.sh)
PLAN = "/ixm/plan.json"
CARRIER_WAIT_S = 15.0  # igb's link: auto-negotiation under TCG, inside TCG
KILL_WAIT_S = 10.0     # after a run's time is up: SIGKILL to its group, then this long


def say(line):
    sys.stdout.write(f"nested: {line}\n")
    sys.stdout.flush()


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def link(path):
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return None


def dev(addr, *parts):
    return os.path.join("/sys/bus/pci/devices", addr, *parts)


def ifaces(addr):
    try:
        return sorted(os.listdir(dev(addr, "net")))
    except OSError:
        return []


def state(addr):
    group = link(dev(addr, "iommu_group"))
    names = []
    for name in ifaces(addr):
        up = int(read(dev(addr, "net", name, "flags")) or "0", 16) & 1
        names.append(f"{name}:{'up' if up else 'down'}")
    vfio = "yes" if group and os.path.exists(f"/dev/vfio/{group}") else "no"
    return (f"state {addr} driver={link(dev(addr, 'driver')) or 'none'} "
            f"override={read(dev(addr, 'driver_override'))} group={group or 'none'} "
            f"vfio={vfio} ifaces={','.join(names) or 'none'}")


def write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def step_insmod(names):
    for name in names:
        p = subprocess.run([BUSYBOX, "insmod", f"/lib/modules/{name}.ko"], capture_output=True,
                           text=True)
        say(f"insmod {name}: ok" if p.returncode == 0 else
            f"insmod {name}: failed ({(p.stderr or p.stdout).strip()})")


def step_unbind(addr):
    driver = link(dev(addr, "driver"))
    try:
        write(dev(addr, "driver", "unbind"), addr)
        say(f"unbind {addr} from {driver}: ok")
    except OSError as e:
        say(f"unbind {addr} from {driver}: failed ({e.strerror})")


def step_link(addr, updown):
    names = ifaces(addr)
    if not names:
        say(f"link {addr}: no interface")
    for name in names:
        subprocess.run([BUSYBOX, "ip", "link", "set", name, updown])
        if updown == "down":
            say(f"link {name} down")
            continue
        t0 = time.monotonic()
        while read(f"/sys/class/net/{name}/carrier") != "1":
            if time.monotonic() - t0 > CARRIER_WAIT_S:
                say(f"link {name} up: no carrier within {CARRIER_WAIT_S:g} s")
                break
            time.sleep(0.1)
        else:
            say(f"link {name} up: carrier after {time.monotonic() - t0:.1f} s")


def step_hugepages(path):
    """hugetlbfs at path, for a QEMU's -mem-path: its 1 GiB pages."""
    os.makedirs(path, exist_ok=True)
    p = subprocess.run([BUSYBOX, "mount", "-t", "hugetlbfs", "-o", "pagesize=1G", "hugetlbfs",
                        path], capture_output=True, text=True)
    free = read("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages")
    say(f"hugepages {path}: {free} of 1 GiB free" if p.returncode == 0 else
        f"hugepages {path}: failed ({(p.stderr or p.stdout).strip()})")


def step_run(name, seconds, at, sig, args):
    addrs = [a if a.count(":") == 2 else "0000:" + a
             for a in (args[:args.index("--")] if "--" in args else args)
             if re.fullmatch(r"([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", a)]
    say(f"begin {name}: tools/passthrough {' '.join(args)}")
    t0 = time.monotonic()
    p = subprocess.Popen([TOOL] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    trigger = re.compile(at) if at else None

    def relay():
        nonlocal trigger
        for raw in iter(p.stdout.readline, b""):
            line = raw.decode("latin-1")
            sys.stdout.write(line if line.endswith("\n") else line + "\n")
            sys.stdout.flush()
            if trigger and trigger.search(line.rstrip("\r\n")):
                trigger = None
                for a in addrs:
                    say(f"during {name}: {state(a)}")
                if sig == "INT":  # a terminal's Ctrl-C: the whole foreground group
                    os.killpg(p.pid, signal.SIGINT)
                elif sig == "TERM":  # kill PID: the tool alone
                    p.send_signal(signal.SIGTERM)
    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    try:
        status = p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=KILL_WAIT_S)
        reader.join(2)
        say(f"{name} still running after {seconds:g} s: killed")
        return
    reader.join(5)
    say(f"exit {name} {status} in {time.monotonic() - t0:.1f} s")


def main():
    with open(PLAN) as f:
        plan = json.load(f)
    # Nothing of L1's own on the igbs' cables: no IPv6 (its router and
    # neighbour solicitations would reach the harness).
    for conf in ("all", "default"):
        write(f"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6", "1")
    say(f"plan: {len(plan)} steps; L1 up {read('/proc/uptime').split()[0]} s")
    for step in plan:
        kind, args = step[0], step[1:]
        try:
            if kind == "state":
                for a in args[1:]:
                    say(state(a).replace("state ", f"state {args[0]}: ", 1))
            elif kind == "insmod":
                step_insmod(args)
            elif kind == "unbind":
                step_unbind(args[0])
            elif kind == "hugepages":
                step_hugepages(args[0])
            elif kind == "write":
                write(args[0], args[1])
                say(f"write {args[1]} > {args[0]}: ok")
            elif kind == "link":
                step_link(args[0], args[1])
            elif kind == "run":
                step_run(args[0], float(args[1]), args[2], args[3], args[4:])
            else:
                say(f"unknown step {step!r}")
        except Exception as e:  # reported, and the plan goes on: the test outside judges
            say(f"step {step!r} failed: {type(e).__name__}: {e}")
    say(f"plan done; L1 up {read('/proc/uptime').split()[0]} s")


if __name__ == "__main__":
    main()
