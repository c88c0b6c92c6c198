#!/usr/bin/env python3
"""tests/test_docs.py - README.md and docs/*.md say what the repository holds.

Reads the Markdown (outside fenced code blocks) and checks:

  links      every relative link resolves: the file (or directory) exists,
             and a #anchor names a heading of the target page (GitHub's
             anchors: lower case, punctuation dropped, spaces as hyphens)
  paths      every repository path written in `code` (boot/, kernel/,
             driver/, apps/, tests/, tools/, docs/, linker.ld, Makefile)
             exists (a glob, [ch] or *, matches something), unless it is
             the name of a boot test in tests/run.py ("boot/iommu-info")
  functions  every function written as `name()` or `name(args)` is defined
             in the sources (C, assembly, Python, shell); where it is written
             with its file ("`name()` in `file`", "`name()` (`file`)"), in
             that file
  tour       docs/tour.md's stops ("## N. title"), numbered in order: each
             names its code and document in one line, "**Code:** `file`
             `function()` ... · **Spec:** ... §N.N ..." (each function
             defined in the file before it); every section it cites is
             written the same way
             (the § and the number) in the code next to one of the stop's
             functions: its body, the comment above it, or the head comment
             of its file (a stop naming only a file: anywhere in that file);
             a stop about code no document describes says "**Spec:** none"
  gdb        every frame gdb printed in a session the pages show (fenced
             code included), "FUNC (args) at FILE:LINE", after "#N ",
             "#N 0x... in " or "Breakpoint N, ", names a LINE inside FUNC's
             definition in FILE (a leading ./ dropped): from the line that
             defines it to its closing '}' at column 0; or inside a function
             of FILE that FUNC's body calls, since at the first instruction
             of an inlined call gdb names the caller with the callee's line.
             Where gdb printed the source line after the frame ("624\t..."),
             it is that line of FILE.

Output as the unit tests': "PASS test_docs: CASE" or "FAIL test_docs: CASE"
followed by indented details, read by tests/run.py.

    tests/test_docs.py           # every case
    tests/test_docs.py --show    # each stop of the tour, its code and sections
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAM = "test_docs"
SOURCE_DIRS = ("boot", "kernel", "driver", "apps", "tests", "tools")
PATH_RE = re.compile(r"^(?:(?:boot|kernel|driver|apps|tests|tools|docs)/[\w./+\-\[\]*<>]*"
                     r"|linker\.ld|Makefile)$")
FUNC_RE = re.compile(r"^([A-Za-z_]\w*)\((?:[^()]*)\)$")
LINK_RE = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
SECTION_RE = re.compile(r"§\s?(\d+(?:\.\d+)*)")


# --- reading Markdown ----------------------------------------------------------

def md_files():
    return [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))


def md_texts():
    """(path, text) of each page checked."""
    for md in md_files():
        with open(md) as f:
            yield md, f.read()


def prose(text):
    """The lines outside fenced code blocks, with their line numbers."""
    out, fenced = [], False
    for n, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out.append((n, line))
    return out


def paragraphs(text):
    """Blocks of prose lines between blank lines (a table row is a block of
    its own): [(first line number, joined text)]."""
    blocks, cur, start = [], [], 0
    for n, line in prose(text):
        if not line.strip() or line.lstrip().startswith("|") or line.startswith("#"):
            if cur:
                blocks.append((start, "\n".join(cur)))
                cur = []
            if line.strip():
                blocks.append((n, line))
            continue
        if not cur:
            start = n
        cur.append(line)
    if cur:
        blocks.append((start, "\n".join(cur)))
    return blocks


def code_spans(text):
    return re.findall(r"`([^`\n]+)`", text)


def slug(heading):
    """GitHub's anchor for a heading."""
    s = heading.strip().lower()
    s = re.sub(r"`", "", s)
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    seen, out = {}, set()
    with open(path) as f:
        for _, line in prose(f.read()):
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*$", line)
            if m:
                s = slug(m.group(1))
                k = seen.get(s, 0)
                seen[s] = k + 1
                out.add(s if k == 0 else f"{s}-{k}")
    return out


# --- reading the sources -------------------------------------------------------

def source_files():
    files = []
    for d in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(ROOT, d)):
            if "/corpus" in dirpath:
                continue
            for n in names:
                if n.endswith((".c", ".h", ".S", ".py", ".sh")) or n == "passthrough":
                    files.append(os.path.join(dirpath, n))
    return files


def definition_line(lines, name, path):
    """The index of the line that defines name in a file's lines, or None."""
    if path.endswith(".S"):
        pat = re.compile(rf"^{re.escape(name)}:")
    elif path.endswith(".py") or os.path.basename(path) == "passthrough":
        pat = re.compile(rf"^\s*def {re.escape(name)}\(")
    elif path.endswith(".sh"):
        pat = re.compile(rf"^{re.escape(name)}\s*\(\)")
    else:  # C: at column 0, not a declaration; or a function-like macro
        pat = re.compile(rf"^(?:#define {re.escape(name)}\(|[A-Za-z_][^;]*\b{re.escape(name)}\()")
    for i, l in enumerate(lines):
        if pat.match(l) and not (path.endswith((".c", ".h")) and l.rstrip().endswith(";")):
            return i
    return None


def span(lines, i, path):
    """The text next to the definition at line i: the comment block right
    above it, and its body (C: to the first '}' at column 0; assembly: to
    the next label at column 0; else to the next line at its indentation)."""
    lo = i
    while lo > 0 and lines[lo - 1].strip() and (
            lines[lo - 1].lstrip().startswith(("/*", "*", "//", "#", "__attribute__"))
            or lines[lo - 1].rstrip().endswith("*/")):
        lo -= 1
    hi = i + 1
    if path.endswith(".S"):
        while hi < len(lines) and not re.match(r"^[A-Za-z_]\w*:", lines[hi]):
            hi += 1
    elif path.endswith((".c", ".h")):
        if not lines[i].startswith("#define"):
            while hi < len(lines) and not lines[hi].startswith("}"):
                hi += 1
    else:
        indent = len(lines[i]) - len(lines[i].lstrip())
        while hi < len(lines) and (not lines[hi].strip()
                                   or len(lines[hi]) - len(lines[hi].lstrip()) > indent):
            hi += 1
    return "\n".join(lines[lo:hi + 1])


def head_comment(lines):
    """A file's first comment block: where it names its documents and
    describes what its functions do together."""
    out = []
    for l in lines:
        if out and not l.strip():
            break
        if l.startswith(("/*", " *", "#", "//")) or out and l.rstrip().endswith("*/"):
            out.append(l)
        elif out:
            break
    return "\n".join(out)


_texts = {}


def lines_of(path):
    if path not in _texts:
        with open(path, errors="replace") as f:
            _texts[path] = f.read().split("\n")
    return _texts[path]


def defined_in(name, path):
    return os.path.isfile(path) and definition_line(lines_of(path), name, path) is not None


def defined_anywhere(name):
    return [p for p in source_files() if defined_in(name, p)]


def repo_path(token):
    """A path token's files: [] if none exists."""
    t = re.sub(r"<[^>]*>.*$", "", token)  # a placeholder: its directory must exist
    if any(c in t for c in "*["):
        return glob.glob(os.path.join(ROOT, t))
    p = os.path.join(ROOT, t)
    return [p] if os.path.exists(p) else []


# --- the cases -----------------------------------------------------------------

def rel(path):
    return os.path.relpath(path, ROOT)


def check_links():
    problems = []
    for md, text in md_texts():
        for n, line in prose(text):
            for target in LINK_RE.findall(re.sub(r"`[^`]*`", "", line)):
                if re.match(r"^[a-z]+:", target):
                    continue  # http:, https:, mailto:
                path, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
                if not os.path.exists(dest):
                    problems.append(f"{rel(md)}:{n}: link to {target}: no {rel(dest)}")
                elif anchor and (not dest.endswith(".md") or anchor not in anchors(dest)):
                    problems.append(f"{rel(md)}:{n}: link to {target}: {rel(dest)} has no "
                                    f"heading #{anchor}")
    return problems


def test_names():
    """The boot tests' names ("boot/iommu-info", "net/fwd-igb"), which look
    like paths."""
    with open(os.path.join(ROOT, "tests", "run.py")) as f:
        return set(re.findall(r'\("((?:boot|net|unit|fuzz)/[\w\-]+)",', f.read()))


def check_paths():
    problems = []
    tests = test_names()
    for md, text in md_texts():
        for n, line in prose(text):
            for tok in code_spans(line):
                for word in tok.split():
                    word = word.rstrip(",.;:)")
                    if PATH_RE.match(word) and not repo_path(word) and word not in tests:
                        problems.append(f"{rel(md)}:{n}: `{word}` does not exist")
    return problems


# `name()` in `file`, `name()` (`file`), `name()` of `file`: named with its file.
NAMED_IN_RE = re.compile(r"`([A-Za-z_]\w*)\([^()`]*\)`\s*(?:in|of|\(|,)\s*`([^`]+)`")


def check_functions():
    problems = []
    for md, text in md_texts():
        for n, block in paragraphs(text):
            named = {}
            for name, f in NAMED_IN_RE.findall(block):
                if PATH_RE.match(f):
                    named.setdefault(name, []).append(f)
            for tok in code_spans(block):
                m = FUNC_RE.match(tok.strip())
                if not m:
                    continue
                name = m.group(1)
                if name in named:
                    for f in named[name]:
                        if not any(defined_in(name, p) for p in repo_path(f)):
                            problems.append(f"{rel(md)}:{n}: `{tok}` is not defined in {f}")
                elif not defined_anywhere(name):
                    problems.append(f"{rel(md)}:{n}: `{tok}` is defined nowhere in the sources")
    return problems


def tour_stops(path):
    """[(number, title, line, [(file, [functions])], [sections], spec says none)]."""
    stops = []
    with open(path) as f:
        text = f.read()
    for n, line in prose(text):
        m = re.match(r"^## (\d+)\. (.+)$", line)
        if m:
            stops.append([int(m.group(1)), m.group(2), n, [], [], False])
        elif stops and line.startswith("**Code:**"):
            line, _, spec = line.partition("**Spec:**")
            if spec:
                stops[-1][4] += SECTION_RE.findall(spec)
                stops[-1][5] = spec.strip().startswith("none")
            for tok in code_spans(line):
                if FUNC_RE.match(tok):
                    if stops[-1][3]:
                        stops[-1][3][-1][1].append(FUNC_RE.match(tok).group(1))
                else:
                    stops[-1][3].append((tok, []))
        elif stops and line.startswith("**Spec:**"):
            stops[-1][4] += SECTION_RE.findall(line)
            stops[-1][5] = line.startswith("**Spec:** none")
    return stops


def check_tour(show=False):
    path = os.path.join(ROOT, "docs", "tour.md")
    if not os.path.exists(path):
        return ["docs/tour.md does not exist"]
    problems = []
    stops = tour_stops(path)
    if not 12 <= len(stops) <= 18:
        problems.append(f"{len(stops)} stops; the tour has about fifteen")
    for k, (num, title, n, code, sections, nospec) in enumerate(stops, 1):
        where = f"docs/tour.md:{n}: stop {num} ({title})"
        if num != k:
            problems.append(f"{where}: numbered {num}, expected {k}")
        if not code:
            problems.append(f"{where}: no **Code:** line naming a file")
            continue
        if not sections and not nospec:
            problems.append(f"{where}: no **Spec:** line citing a section (§), nor "
                            "\"**Spec:** none\"")
        texts = []
        for f, funcs in code:
            p = os.path.join(ROOT, f)
            if not os.path.isfile(p):
                problems.append(f"{where}: {f} does not exist")
                continue
            if not funcs:
                texts.append("\n".join(lines_of(p)))
            else:
                texts.append(head_comment(lines_of(p)))
            for fn in funcs:
                i = definition_line(lines_of(p), fn, p)
                if i is None:
                    problems.append(f"{where}: {fn}() is not defined in {f}")
                else:
                    texts.append(span(lines_of(p), i, p))
        for s in sections:
            if not any(re.search(rf"§\s?{re.escape(s)}(?!\d|\.\d)", t) for t in texts):
                problems.append(f"{where}: §{s} is cited, but not written next to "
                                + ", ".join(f"{f} " + " ".join(f"{x}()" for x in fs)
                                            for f, fs in code))
        if show:
            print(f"stop {num}: {title}: " + "; ".join(f"{f} {' '.join(fs)}" for f, fs in code)
                  + f"; § {' '.join(sections)}")
    return problems


# A frame as gdb prints it: "#1  0x... in nic_tx_batch (...) at ./driver/nic.h:126",
# "#2  forward (...) at apps/fwd.c:60", "Breakpoint 1, kmain (...) at kernel/kmain.c:212".
GDB_FRAME_RE = re.compile(r"^(?:Thread \d+ hit )?(?:Breakpoint \d+, |#\d+\s+(?:0x[0-9a-f]+ in )?)"
                          r"([A-Za-z_]\w*) \(.*\) at (\S+):(\d+)$")
GDB_SOURCE_RE = re.compile(r"^(\d+)\t(.*)$")


def c_extent(lines, name, path):
    """The lines (1-based, inclusive) of a C function's definition, from
    the line that defines it to its closing '}' at column 0, or None."""
    i = definition_line(lines, name, path)
    if i is None:
        return None
    j = i + 1
    while j < len(lines) and not lines[j].startswith("}"):
        j += 1
    return i + 1, j + 1


def check_gdb_frames():
    problems = []
    for md, text in md_texts():
        frame = None  # (file's lines, line number) of the frame just read
        for n, line in enumerate(text.split("\n"), 1):
            src = GDB_SOURCE_RE.match(line)
            if src and frame:
                lines, at = frame
                if int(src.group(1)) != at:
                    problems.append(f"{rel(md)}:{n}: gdb printed line {src.group(1)} after a "
                                    f"frame at line {at}")
                elif at > len(lines) or lines[at - 1].rstrip() != src.group(2).rstrip():
                    problems.append(f"{rel(md)}:{n}: gdb printed line {at} as "
                                    f"'{src.group(2).strip()}', not what the file has there")
            frame = None
            m = GDB_FRAME_RE.match(line.rstrip())
            if not m:
                continue
            name, f, at = m.group(1), re.sub(r"^\./", "", m.group(2)), int(m.group(3))
            p = os.path.join(ROOT, f)
            if not (os.path.isfile(p) and f.endswith((".c", ".h"))):
                problems.append(f"{rel(md)}:{n}: frame {name} at {f}:{at}: no C file {f}")
                continue
            lines = lines_of(p)
            ext = c_extent(lines, name, p)
            if ext is None:
                problems.append(f"{rel(md)}:{n}: frame {name} at {f}:{at}: {name} is not "
                                f"defined in {f}")
                continue
            body = "\n".join(lines[ext[0] - 1:ext[1]])
            inlined = [g for g in set(re.findall(r"\b([A-Za-z_]\w*)\(", body)) if g != name]
            inside = ext[0] <= at <= ext[1] or any(
                e and e[0] <= at <= e[1] for e in (c_extent(lines, g, p) for g in inlined))
            if not inside:
                problems.append(f"{rel(md)}:{n}: frame {name} at {f}:{at}: line {at} is outside "
                                f"{name}() (lines {ext[0]}-{ext[1]}) and the functions it calls")
            frame = (lines, at)
    return problems


def main():
    show = "--show" in sys.argv[1:]
    failed = 0
    for case, fn in (("links resolve", check_links), ("paths exist", check_paths),
                     ("functions are defined where named", check_functions),
                     ("tour stops match the code", lambda: check_tour(show)),
                     ("gdb frames name lines of their functions", check_gdb_frames)):
        problems = fn()
        if problems:
            failed += 1
            print(f"FAIL {PROGRAM}: {case}")
            for p in problems:
                print(f"     {p}")
        else:
            print(f"PASS {PROGRAM}: {case}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
