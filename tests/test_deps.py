#!/usr/bin/env python3
"""tests/test_deps.py - every program the project runs is one tools/deps.sh installs.

Reads, without running them, the Makefile's recipes (and its $(shell ...)),
the shell scripts (tools/*.sh, .ci/run) and the Python programs (tests/*.py,
tools/passthrough), and lists the programs they start: the command words of
the shell (through variables such as `$pin_qemu` and wrappers such as
`taskset -c 0` and `ip netns exec NS`), the Makefile's with its variables
($(QEMU) is qemu-system-x86_64), and in Python the program of each
subprocess call and shutil.which (a literal, a module constant such as QEMU,
a list built up in steps, an argparse default). Each must be a row of
`tools/deps.sh --list`, or come from a package that every Debian system has
(Essential: yes or Priority: required, as dpkg-query says of the package
owning it here): after tools/deps.sh, a minimal Debian 12 has them all. What
is neither is named with the file and line that runs it. The project's own
programs (a path: tools/run-pair.sh, build/netharness) are not asked about.

Output as the unit tests': "PASS test_deps: CASE" or "FAIL test_deps: CASE"
followed by indented details, read by tests/run.py.

    tests/test_deps.py            # every case
    tests/test_deps.py --show     # each program found, where, and why it is covered
"""
import ast
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPS = os.path.join(ROOT, "tools", "deps.sh")
PROGRAM = "test_deps"

# Shell words that are never programs: builtins and reserved words of bash and dash.
BUILTINS = set("""
    ! [ [[ ]] { } : . alias bg break builtin case cd command continue declare do done
    echo elif else esac eval exec exit export false fg fi for function getopts hash
    if in jobs kill let local printf pwd read readonly return set shift source test
    then time trap true type typeset ulimit umask unalias unset until wait while
""".split())
# Reserved words after which a command starts.
STARTS_COMMAND = {"!", "{", "if", "then", "else", "elif", "do", "while", "until", "time"}


# --- argv words: the program, and the one a wrapper runs ----------------------------

def wrapped(words):
    """The index of the command a wrapper at words[0] runs, or None.
    words: str, or None where a word is unknown."""
    first = words[0] if words else None
    opts = lambda i: next((k for k in range(i, len(words))
                           if not (words[k] or "").startswith("-")), len(words))
    if first in ("sudo", "nice", "exec", "xargs"):
        return opts(1)
    if first == "env":
        k = opts(1)
        while k < len(words) and "=" in (words[k] or ""):
            k += 1
        return k
    if first in ("taskset", "timeout"):  # taskset [-c] CPUS CMD, timeout [OPTS] SECONDS CMD
        return opts(1) + 1
    if first == "command" and len(words) > 1 and words[1] not in ("-v", "-V"):
        return opts(1)
    if first == "ip" and words[1:3] == ["netns", "exec"]:
        return 4
    return None


def programs_of(words):
    """The programs an argv (list of str, None for unknown words) starts:
    words[0] and, through wrappers, what they run. Paths (the project's
    own), unknown words and builtins are left out."""
    found = []
    while words:
        w = words[0]
        if w and re.fullmatch(r"[A-Za-z0-9_.+][A-Za-z0-9_.+-]*", w) and w not in BUILTINS:
            found.append(w)
        k = wrapped(words)
        if k is None:
            break
        words = words[k:]
    return found


# --- shell ---------------------------------------------------------------------------

class Shell:
    """A small lexer for the shell the project writes: words, operators,
    quotes, $(...) (whose commands count too), ${...}, $((...)),
    here-documents, comments, case patterns and function definitions.
    Each simple command is kept as (line, [word, ...]), a word as its
    unquoted text with expansions left as written (`$pin`, `${x:-y}`)."""

    def __init__(self, text, line=1):
        self.s, self.i, self.line = text, 0, line
        self.commands = []     # (line, words) of every simple command
        self.assigned = {}     # variable -> values it is given
        self.functions = set()
        self.heredocs = []     # delimiters waiting for the end of the line
        self.run(None)

    def peek(self, n=1):
        return self.s[self.i:self.i + n]

    def skip_to_close(self, open_, close):
        """From just inside an opening bracket to just past its close."""
        depth = 1
        while self.i < len(self.s) and depth:
            c = self.s[self.i]
            if c == "\\":
                self.i += 1
            elif c == open_:
                depth += 1
            elif c == close:
                depth -= 1
            elif c == "\n":
                self.line += 1
            self.i += 1

    def dollar(self):
        """At a '$': returns its text as written; runs $(...) as commands."""
        start = self.i
        self.i += 1
        if self.peek(2) == "((":
            self.i += 2
            self.skip_to_close("(", ")")
            self.i += 1  # the second ')'
        elif self.peek() == "(":
            self.i += 1
            self.run(")")
        elif self.peek() == "{":
            self.i += 1
            self.skip_to_close("{", "}")
        else:
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]").match(self.s, self.i)
            self.i = m.end() if m else self.i
        return self.s[start:self.i]

    def expansion(self):
        """At a '$' or '`': its text as written ('$' for `...`, whose
        commands count)."""
        if self.s[self.i] == "$":
            return self.dollar()
        self.i += 1
        self.run("`")
        return "$"

    def word(self):
        """One word from here; None at an operator or the end."""
        out = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\n;&|()<>":
                break
            if c == "\\":
                if self.peek(2) == "\\\n":
                    self.line += 1
                    self.i += 2
                    continue
                out.append(self.s[self.i + 1:self.i + 2])
                self.i += 2
            elif c == "'":
                end = self.s.index("'", self.i + 1)
                out.append(self.s[self.i + 1:end])
                self.line += self.s.count("\n", self.i, end)
                self.i = end + 1
            elif c == '"':
                self.i += 1
                while self.s[self.i] != '"':
                    d = self.s[self.i]
                    if d == "\\":
                        out.append(self.s[self.i + 1])
                        self.i += 2
                    elif d in "$`":
                        out.append(self.expansion())
                    else:
                        self.line += d == "\n"
                        out.append(d)
                        self.i += 1
                self.i += 1
            elif c in "$`":
                out.append(self.expansion())
            else:
                out.append(c)
                self.i += 1
        return "".join(out) if out or self.i < len(self.s) else None

    def here_documents(self):
        """At a newline with here-documents pending: skips their bodies."""
        for delim, strip in self.heredocs:
            while self.i < len(self.s):
                end = self.s.find("\n", self.i)
                end = len(self.s) if end < 0 else end
                body = self.s[self.i:end]
                self.i, self.line = end + 1, self.line + 1
                if (body.lstrip("\t") if strip else body) == delim:
                    break
        self.heredocs = []

    def run(self, until):
        """Commands up to the closing `until` (')' of $(, '`') or the end."""
        words, line = [], self.line
        pattern = False   # in a case's patterns, up to ')'
        redirect = False  # the next word is a redirection's target

        def end_command():
            nonlocal words
            if words:
                self.command(line, words)
            words = []

        while self.i < len(self.s):
            c = self.s[self.i]
            if until and c == until and (until != ")" or not pattern):
                self.i += 1
                break
            if c in " \t":
                self.i += 1
            elif c == "\n":
                self.i += 1
                self.line += 1
                end_command()
                if self.heredocs:
                    self.here_documents()
            elif c == "#" and (self.i == 0 or self.s[self.i - 1] in " \t\n;&|()"):
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            elif self.peek(2) == "\\\n":
                self.i += 2
                self.line += 1
            elif c in ";&|()":
                op = self.s[self.i:self.i + 2] if self.peek(2) in (";;", "&&", "||") else c
                self.i += len(op)
                if op == ")" and pattern:
                    pattern = False
                elif op == "(" and words and len(words) == 1 and self.peek() == ")":
                    self.functions.add(words[0])  # name() { ...
                    self.i += 1
                    words = []
                    continue
                elif op == ";;":
                    pattern = True
                end_command()
            elif self.peek(2) in ("<(", ">("):  # process substitution: a word
                self.i += 2
                self.run(")")
                if redirect:
                    redirect = False
                else:
                    words.append("$")
            elif c in "<>" or (c.isdigit() and re.compile(r"\d+[<>]").match(self.s, self.i)):
                m = re.compile(r"\d*(<<<|<<-|<<|>>|<>|>\||[<>]&?)").match(self.s, self.i)
                self.i = m.end()
                if m.group(1) in ("<<", "<<-"):
                    while self.peek() in " \t":
                        self.i += 1
                    self.heredocs.append((self.word().strip("'\""), m.group(1) == "<<-"))
                elif not m.group(1).endswith("&") or not re.compile(r"\d|-").match(self.s, self.i):
                    redirect = True  # its target, the next word, is not part of the command
                else:
                    self.i += 1  # 2>&1, >&2
            else:
                line = self.line if not words else line
                w = self.word()
                if w is None:
                    break
                if redirect:
                    redirect = False
                    continue
                if pattern:
                    pattern = w != "esac"  # after it: the arm of a case around it, if any
                    continue
                if not words and w == "case":
                    for _ in range(3):  # the word, then 'in'
                        while self.peek() in " \t":
                            self.i += 1
                        if self.word() in ("in", "", None):
                            break
                    pattern = True
                    continue
                words.append(w)
        end_command()

    def command(self, line, words):
        """Notes a simple command: its assignments and its words from the
        command word on (reserved words that start a command dropped)."""
        while words and (words[0] in STARTS_COMMAND or words[0] in ("fi", "done", "esac", "}")):
            words = words[1:]
        if words and words[0] == "for":
            return
        if words and words[0] == "function" and len(words) > 1:
            self.functions.add(words[1])
            return
        while words:
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(\[[^]]*\])?\+?=(.*)", words[0], re.S)
            if not m:
                break
            self.assigned.setdefault(m.group(1), []).append(m.group(3))
            words = words[1:]
        if words and words[0] in ("local", "export", "readonly", "declare"):
            for w in words[1:]:
                m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", w, re.S)
                if m:
                    self.assigned.setdefault(m.group(1), []).append(m.group(2))
            return
        if words:
            self.commands.append((line, words))

    def values(self, word):
        """What a word at the command's start can be: itself, or for `$v`
        each value v is given (`${V:-default}` its default)."""
        m = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", word)
        if not m:
            return [word.split()]
        out = []
        for v in self.assigned.get(m.group(1), []):
            d = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-(.*)\}", v, re.S)
            out.append((d.group(1) if d else v).split())
        return out

    def starts(self, words, depth=0):
        """The programs a command's words start: the first word's (each value
        of a variable there), and through a wrapper or an empty value the
        command after it."""
        out = []
        for first in self.values(words[0]) if words and depth < 4 else []:
            argv = first + words[1:]
            if not first:
                out += self.starts(words[1:], depth + 1)
                continue
            if argv[0] not in self.functions:
                out += programs_of(argv[:1])
            k = wrapped(argv)
            if k is not None:
                out += self.starts(argv[k:], depth + 1)
        return out

    def programs(self):
        """(line, program) of every program the text starts."""
        return [(line, p) for line, words in self.commands for p in self.starts(words)]


# --- Makefile ------------------------------------------------------------------------

def make_expand(text, variables, depth=0):
    """Make's references in text expanded as far as they are known: $(NAME)
    from the Makefile's own assignments, automatic variables and function
    calls to a placeholder word; `$$` to `$`. Returns (text, shells): the
    texts of every $(shell ...) met."""
    out, shells, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1:i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt in ("(", "{"):
            close, depth_, j = ")" if nxt == "(" else "}", 1, i + 2
            while j < len(text) and depth_:
                depth_ += (text[j] == nxt) - (text[j] == close)
                j += 1
            inner = text[i + 2:j - 1]
            if inner.startswith("shell "):
                shells.append(make_expand(inner[6:], variables, depth + 1)[0])
                out.append("${make}")
            elif " " in inner or "$" in inner or depth > 8:
                out.append("${make}")  # a function, or a computed name
            else:
                value, more = make_expand(variables.get(inner, ""), variables, depth + 1)
                out.append(value)
                shells += more
            i = j
        else:
            out.append("${make}")  # $@, $<, ...
            i += 2
    return "".join(out), shells


def makefile_programs(text):
    """(line, program) of what the Makefile's recipes and $(shell)s run."""
    variables, recipes, in_rule = {}, [], False
    lines = text.split("\n")
    k = 0
    while k < len(lines):
        start, logical = k + 1, lines[k]
        while logical.endswith("\\") and k + 1 < len(lines):
            k += 1
            logical = logical[:-1] + "\n" + lines[k].lstrip("\t")
        k += 1
        if logical.startswith("\t") and in_rule:
            recipes.append((start, logical[1:].lstrip("@-+")))
            continue
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*(\?=|:=|::=|\+=|=)\s*(.*)", logical, re.S)
        if m:
            name, op, value = m.groups()
            if op == "+=":
                variables[name] = variables.get(name, "") + " " + value
            elif not (op == "?=" and name in variables):
                variables[name] = value
            in_rule = False
        elif re.match(r"[^#\s][^=]*:", logical):
            in_rule = True
        elif logical and not logical.startswith("#"):
            in_rule = False
    found = []
    shells = []
    for start, recipe in recipes:
        expanded, more = make_expand(recipe, variables)
        shells += [(start, s) for s in more]
        found += Shell(expanded, start).programs()
    for k, line in enumerate(lines):  # $(shell ...) outside recipes: in assignments, includes
        if not line.startswith("\t"):
            shells += [(k + 1, s) for s in make_expand(line, variables)[1]]
    for start, s in shells:
        found += Shell(s, start).programs()
    return found


# --- Python --------------------------------------------------------------------------

SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output"}


class Python:
    """The programs a Python file starts through subprocess or looks for
    with shutil.which, resolved from literals, names and attributes."""

    def __init__(self, text):
        self.tree = ast.parse(text)
        self.parent = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
        self.defaults = {}  # argparse option -> its default (a node)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
                opt = next((a.value for a in node.args if isinstance(a, ast.Constant)
                            and str(a.value).startswith("--")), None)
                default = next((k.value for k in node.keywords if k.arg == "default"), None)
                if opt and default is not None:
                    self.defaults[opt[2:].replace("-", "_")] = default

    def scope(self, node):
        while node in self.parent and not isinstance(node, (ast.FunctionDef, ast.Module)):
            node = self.parent[node]
        return node

    def bindings(self, name, scope):
        """What name is bound to in scope: ('value', node) for assignments,
        ('each', node) for a for loop over node, ('param', default)."""
        out = []
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name) and t.id == name:
                        out.append(("value", node.value))
            elif isinstance(node, ast.AugAssign) and getattr(node.target, "id", None) == name:
                out.append(("value", node.value))
            elif isinstance(node, ast.For):
                for t in ast.walk(node.target):
                    if isinstance(t, ast.Name) and t.id == name:
                        out.append(("each", node.iter))
        if isinstance(scope, ast.FunctionDef):
            args = scope.args
            params = args.posonlyargs + args.args + args.kwonlyargs
            defaults = [None] * (len(args.posonlyargs + args.args) - len(args.defaults)) + \
                list(args.defaults) + list(args.kw_defaults)
            for p, d in zip(params, defaults):
                if p.arg == name:
                    out.append(("param", d))
        return out

    def names(self, node, depth=0):
        """The values a name or attribute can have, as nodes."""
        if depth > 6:
            return []
        if isinstance(node, ast.Name):
            scope = self.scope(node)
            found = self.bindings(node.id, scope)
            if not found and scope is not self.tree:
                found = self.bindings(node.id, self.tree)
        elif isinstance(node, ast.Attribute):
            base = ast.dump(node.value)  # self.cmd is what self.cmd = ... sets; args.qemu ...
            found = [("value", n.value) for n in ast.walk(self.tree) if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Attribute) and t.attr == node.attr
                     and ast.dump(t.value) == base]
            if not found and node.attr in self.defaults:
                found = [("value", self.defaults[node.attr])]
            if not found:
                return [node]  # sys.executable, say
        else:
            return [node]
        out = []
        for kind, value in found:
            if kind == "value":
                out += self.names(value, depth + 1)
            elif kind == "each":
                while isinstance(value, ast.Call) and getattr(value.func, "id", "") in (
                        "enumerate", "list", "sorted", "reversed") and value.args:
                    value = value.args[0]
                for seq in self.names(value, depth + 1):
                    if isinstance(seq, (ast.List, ast.Tuple)):
                        out += [e for e in seq.elts]
            elif kind == "param":  # its default, if any: () can make a prefix empty
                out.append(value if value is not None else ast.Constant(None))
        return out

    def word(self, node):
        """A string an expression can be: a literal, os.environ.get's default,
        a name bound to one; None if unknown or not a string."""
        for n in self.names(node):
            w = self.string(n)
            if w is not None:
                return w
        return None

    def string(self, n):
        """The string a resolved node is, or None."""
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            return n.value
        if isinstance(n, ast.Attribute) and n.attr == "executable":
            return "python3"  # sys.executable
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "get" and len(n.args) == 2:
            return self.word(n.args[1])  # os.environ.get("QEMU", "qemu-system-x86_64")
        return None

    def argvs(self, node, depth=0):
        """The argv prefixes (lists of words) an expression can be: each a
        list of str or None, as far as its start is known."""
        if depth > 8:
            return []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            out = []
            for left in self.argvs(node.left, depth + 1):
                if left:
                    out.append(left)
                else:  # the left part can be empty: the right one starts
                    out += self.argvs(node.right, depth + 1)
            return out
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("list", "tuple") \
                and node.args:
            return self.argvs(node.args[0], depth + 1)
        if isinstance(node, (ast.List, ast.Tuple)):
            words = []
            for e in node.elts:
                if isinstance(e, ast.Starred):
                    break
                words.append(self.word(e))
            return [words]
        if isinstance(node, ast.IfExp):
            return self.argvs(node.body, depth + 1) + self.argvs(node.orelse, depth + 1)
        if isinstance(node, (ast.Name, ast.Attribute)):
            out = []
            for v in self.names(node):
                if isinstance(v, (ast.List, ast.Tuple, ast.BinOp, ast.IfExp)) or \
                        getattr(getattr(v, "func", None), "id", "") in ("list", "tuple"):
                    out += self.argvs(v, depth + 1)
                else:  # a string: the program alone
                    out.append([self.string(v)])
            return out
        return [[None]]

    def programs(self):
        found = []
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            callee = (getattr(f.value, "id", ""), f.attr) if isinstance(f, ast.Attribute) else ("", "")
            if callee[0] == "subprocess" and callee[1] in SUBPROCESS_CALLS:
                for argv in self.argvs(node.args[0]):
                    found += [(node.lineno, p) for p in programs_of(argv)]
            elif callee == ("shutil", "which"):
                w = self.word(node.args[0])
                found += [(node.lineno, p) for p in programs_of([w])]
        return found


# --- which files, and what covers a program -----------------------------------------

def kind_of(path):
    name = os.path.basename(path)
    if name == "Makefile":
        return "make"
    try:
        with open(path, "rb") as f:
            head = f.readline()
    except OSError:
        return None
    if name.endswith(".py") or (head.startswith(b"#!") and b"python" in head):
        return "python"
    if name.endswith(".sh") or (head.startswith(b"#!") and re.search(rb"\b(ba|da)?sh\b", head)):
        return "shell"
    return None


def project_files():
    """Every Makefile, shell script and Python program of the tree (not
    build/ and hidden folders, but .ci)."""
    out = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if (not d.startswith(".") or d == ".ci")
                         and not (top == ROOT and d == "build"))
        for f in sorted(files):
            path = os.path.join(top, f)
            kind = kind_of(path)
            if kind:
                out.append((os.path.relpath(path, ROOT), kind))
    return out


def programs_in(path, kind):
    with open(os.path.join(ROOT, path)) as f:
        text = f.read()
    if kind == "make":
        found = makefile_programs(text)
    elif kind == "python":
        found = Python(text).programs()
    else:
        found = Shell(text).programs()
    return sorted(found)


def deps_rows():
    """tools/deps.sh --list: {program or file: package}."""
    out = subprocess.run(["bash", DEPS, "--list"], capture_output=True, text=True, check=True)
    rows = {}
    for line in out.stdout.splitlines():
        fields = line.split()
        rows[fields[0]] = fields[1] if len(fields) > 1 else ""
    return rows


def candidates(program):
    """Where dpkg may have the program found on PATH: each bin folder under
    its own name, its symlink's target's and its alternatives' names."""
    path = shutil.which(program)
    if not path:
        return set()
    names = {program, os.path.basename(os.path.realpath(path))}
    if os.path.islink(path) and "/etc/alternatives/" in os.readlink(path):
        alts = subprocess.run(["update-alternatives", "--list", program],
                              capture_output=True, text=True).stdout.split()
        names |= {os.path.basename(a) for a in alts}
    return {f"{d}/{n}" for n in names for d in ("/usr/bin", "/usr/sbin", "/bin", "/sbin")}


def owners(programs):
    """{program: the Debian packages owning it}, as one dpkg-query -S says
    for them all (an empty list: not found, or from no package)."""
    where = {p: candidates(p) for p in programs}
    paths = sorted(set().union(*where.values()))
    r = subprocess.run(["dpkg-query", "-S"] + paths, capture_output=True, text=True) \
        if paths else None
    by_path = {}
    for line in r.stdout.splitlines() if r else []:
        if not line.startswith("diversion by") and ": " in line:
            pkgs, path = line.split(": ", 1)
            by_path.setdefault(path, set()).update(p.strip().split(":")[0] for p in pkgs.split(","))
    return {p: sorted(set().union(*(by_path.get(c, set()) for c in where[p])))
            for p in programs}


def on_every_debian(packages):
    """Those of the packages that are Essential or of Priority required."""
    if not packages:
        return set()
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority}\n"] +
                       sorted(packages), capture_output=True, text=True)
    return {f[0] for f in (l.split() for l in r.stdout.splitlines())
            if len(f) >= 2 and (f[1] == "yes" or f[-1] == "required")}


# --- the cases ------------------------------------------------------------------------

def report(case, problems):
    if problems:
        print(f"FAIL {PROGRAM}: {case}")
        for p in problems:
            print(f"     {p}")
    else:
        print(f"PASS {PROGRAM}: {case}")
    sys.stdout.flush()
    return not problems


def expect(case, got, want):
    got = sorted(set(p for _, p in got))
    return report(case, [] if got == sorted(want) else [f"found {got}", f"expected {sorted(want)}"])


SHELL_SAMPLE = r'''
pin="taskset -c 0"
[ "$(nproc)" -ge 2 ] || { pin=""; echo "one CPU"; }
qemu=${QEMU:-qemu-system-x86_64}
helper() { seq 3; }
log=$(mktemp)  # a comment: notreal
case $1 in
a | b*) sort -n ;;
'' | *[!0-9]*) echo "$0: $(stat -c %s "$log" | tr -d x)" >&2; exit 2 ;;
esac
cat <<EOF
notreal --flag
EOF
$pin "$qemu" -M pc 2>/dev/null &
helper && python3 -c "
import notreal
" "$1"
echo "  $(echo "$out" | tail -1)" >"$log"
for k in $(ls); do wait $k || [ $? -eq 1 ] || valgrind \
   --tool=callgrind x; done
command -v notreal >/dev/null && ip netns exec ns sysctl -q a=1
'''
SHELL_WANT = ["cat", "ip", "ls", "mktemp", "nproc", "python3", "qemu-system-x86_64", "seq",
              "sort", "stat", "sysctl", "tail", "taskset", "tr", "valgrind"]

MAKE_SAMPLE = '''
CC ?= gcc
QEMU ?= qemu-system-x86_64
CC ?= notreal
OPTS ?= -accel $(if $(wildcard /x),kvm,tcg)
all: x | deps
\t@start=$$($(NM) x | sed -n 's/a/b/p'); \\
\t echo "$$(stat -c %s $@) bytes"
\t$(CC) -o $@ $< $(UNIT_$*)
\t-$(QEMU) $(OPTS) -kernel $(BUILD)/x.elf; s=$$?; [ $$s -eq 1 ] && echo ok
\ttools/run.sh
NM = nm
-include $(shell find build -name '*.d')
'''
MAKE_WANT = ["find", "gcc", "nm", "qemu-system-x86_64", "sed", "stat"]

PYTHON_SAMPLE = '''
import argparse, os, shutil, subprocess, sys
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
TOOL = os.path.join("tools", "x")
class Q:
    def __init__(self, args, prefix=()):
        self.qemu = None
        self.cmd = list(prefix) + [QEMU] + args
        self.p = subprocess.Popen(self.cmd)
def f(ns, binaries):
    inside = ["ip", "netns", "exec", ns]
    steps = [["ip", "link"]]
    steps += [["ip", "netns", "exec", ns, "sysctl", "-qw", "a=1"]]
    for cmd in steps:
        subprocess.run(cmd)
    cmd = [TOOL, "fwd"]
    subprocess.run(cmd + (["--bad"] if ns else []))
    subprocess.Popen(inside + [TOOL] + ["capture"])
    subprocess.run(["grub-file", "--is-x86-multiboot", "x"]).returncode
    subprocess.run([sys.executable, __file__])
    for b in binaries:
        subprocess.run([b])
ap = argparse.ArgumentParser()
ap.add_argument("--qemu", default="qemu-kvm-here")
args = ap.parse_args()
shutil.which(args.qemu)
'''
PYTHON_WANT = ["grub-file", "ip", "python3", "qemu-kvm-here", "qemu-system-x86_64", "sysctl"]


def scanners():
    """The scanners find exactly what these samples run, and only that."""
    ok = expect("shell scanner on a sample", Shell(SHELL_SAMPLE).programs(), SHELL_WANT)
    ok &= expect("Makefile scanner on a sample", makefile_programs(MAKE_SAMPLE), MAKE_WANT)
    ok &= expect("Python scanner on a sample", Python(PYTHON_SAMPLE).programs(), PYTHON_WANT)
    return ok


def coverage(programs, rows):
    """{program: None if tools/deps.sh lists it or every Debian has it, else why not}."""
    unlisted = sorted(set(programs) - set(rows))
    owner = owners(unlisted)
    everywhere = on_every_debian(set().union(*owner.values()) if owner else set())
    why = {p: None for p in programs}
    for p in unlisted:
        where = shutil.which(p)
        if not owner[p]:
            why[p] = f"{p} is not listed in tools/deps.sh" + (
                f" (here it is {where}, from no Debian package)" if where else
                " and is not installed here")
        elif not everywhere & set(owner[p]):
            why[p] = (f"{p} is not listed in tools/deps.sh, and its package "
                      f"{', '.join(owner[p])} is neither Essential nor of Priority required: "
                      f"add '{p} {owner[p][0]}'")
    return why, owner


def main():
    show = "--show" in sys.argv[1:]
    ok = scanners()
    try:
        rows = deps_rows()
    except (OSError, subprocess.CalledProcessError) as e:
        return 0 if report("tools/deps.sh --list", [str(e)]) and ok else 1
    bad_rows = [f"{n}: no package" for n, p in rows.items() if not p]
    ok &= report(f"tools/deps.sh --list: {len(rows)} rows, each with a package", bad_rows)
    files = [(path, programs_in(path, kind)) for path, kind in project_files()]
    why, owner = coverage({p for _, found in files for _, p in found}, rows)
    for path, found in files:
        problems, names = [], sorted({p for _, p in found})
        for p in names:
            if why[p]:
                problems.append(f"{path}:{min(l for l, q in found if q == p)}: {why[p]}")
            if show:
                print(f"     {path}: {p}: " + ("tools/deps.sh" if p in rows else
                                              why[p] or "Essential/required: " + ",".join(owner[p])))
        if names:
            ok &= report(f"{path} runs {' '.join(names)}", problems)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
