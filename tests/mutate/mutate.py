#!/usr/bin/env python3
"""mutate - the mutation tier: one-token mutants of the decision core.

usage: mutate.py [--seed N] [--per-file N] [--jobs N] [--list] [--only ID]
                 [--out DIR] [--fast]

For each mutant (a one-token change a real bug would look like) the tree is
copied to a scratch directory (never the working tree), the mutant applied
there, the unit tests and the qshapectl used by the data and system tiers
rebuilt, and the tests run until one fails:

  1. the unit tests (cmocka programs), the target file's own first, each
     under a timeout; the first that fails kills the mutant;
  2. if all pass: the target file's own unit tests under ASan/UBSan
     (build/asan/test_*: a leak, an overrun, undefined behaviour);
  3. if all pass: tests/run-all SCRATCH/build data system.

Each mutant ends killed, survived, timeout (a test ran past its limit: the
mutant was detected, counted with killed in the score) or build (did not
compile: not counted).  tests/mutate/equivalent.txt lists, by id, the
mutants argued to be equivalent (no test can tell them from the original);
they are left out of the score:

  score = (killed + timeout) / (total - equivalent - build failures)

Mutants are listed in a fixed order and, when a file has more than
--per-file, sampled with random.Random(--seed): the same seed gives the
same mutants.  The report goes to OUT/report.txt and stdout.
"""

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# The decision core.  None: every function; else only the named ones.
# Then how many mutants of the file to run (None: all, else a sample).
TARGETS = [
    ("src/shape/throttle.c", None, None),
    ("src/shape/verdict.c", None, 80),
    ("src/shape/index.c", ["ix_policy_input", "scratch"], None),
    ("src/shape/qtab.c", None, 80),
    ("src/shape/conf.c", None, 80),
]

# The unit tests to run first for a file (its own); then the rest.
FIRST = {
    "src/shape/throttle.c": ["test_throttle"],
    "src/shape/verdict.c": ["test_verdict"],
    "src/shape/index.c": ["test_index", "test_sc_body"],
    "src/shape/qtab.c": ["test_qtab"],
    "src/shape/conf.c": ["test_conf", "test_conf_limits"],
}
SLOW_LAST = ["test_reconcile", "test_scanner", "test_watch"]
# The files qshapectl scan runs (the data and system tiers' program).
DATA_SYSTEM = ["src/shape/qtab.c"]

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<str>"(?:\\.|[^"\\\n])*")
  | (?P<chr>'(?:\\.|[^'\\\n])*')
  | (?P<num>(?:0[xX][0-9a-fA-F]+|\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?
             |\d+[eE][-+]?\d+|\d+)[uUlLfF]*)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op><<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\+=|-=|\*=|/=|%=|&=|\|=|\^=|\.\.\.
          |[-+*/%<>=!&|^~?:;,.(){}\[\]#])
""", re.X | re.S)


class Tok:
    __slots__ = ("kind", "text", "start", "end")

    def __init__(self, kind, text, start, end):
        self.kind, self.text, self.start, self.end = kind, text, start, end


def tokenize(src):
    """Code tokens of src, without comments and preprocessor lines."""
    toks = []
    pos = 0
    line_start = True
    while pos < len(src):
        if line_start:
            m = re.match(r"[ \t]*#", src[pos:pos + 200])
            if m:                       # a preprocessor line, continued by \
                end = pos
                while True:
                    nl = src.find("\n", end)
                    if nl < 0:
                        end = len(src)
                        break
                    if src[nl - 1] == "\\":
                        end = nl + 1
                        continue
                    end = nl
                    break
                pos = end
                continue
        m = TOKEN.match(src, pos)
        if not m:
            raise SystemExit("mutate: cannot tokenize at offset %d" % pos)
        kind = m.lastgroup
        text = m.group(0)
        if kind == "ws":
            line_start = "\n" in text
        else:
            if kind != "comment":
                toks.append(Tok(kind, text, m.start(), m.end()))
            line_start = False
        pos = m.end()
    return toks


def function_spans(src, names):
    """(start, end) offsets of the bodies of the named functions (KNF:
    the name at column 0, the braces at column 0)."""
    spans = []
    for name in names:
        m = re.search(r"^%s\(" % re.escape(name), src, re.M)
        if not m:
            raise SystemExit("mutate: function %s not found" % name)
        ob = src.index("\n{", m.end()) + 1
        cb = src.index("\n}", ob) + 2
        spans.append((ob, cb))
    return spans


def line_col(src, off):
    line = src.count("\n", 0, off) + 1
    return line, off - (src.rfind("\n", 0, off) + 1) + 1


CMP_FLIP = {"<": ["<=", ">="], "<=": ["<", ">"], ">": [">=", "<="],
            ">=": [">", "<"], "==": ["!="], "!=": ["=="]}
STOP_LEFT = {";", "{", "}", ",", "?", ":", "=", "return", "&&", "||",
             "+=", "-=", "|=", "&="}
STOP_RIGHT = {";", "{", "}", ",", "?", ":", "&&", "||"}


def operand_left(toks, i):
    """Index of the first token of the operand ending at toks[i - 1]."""
    depth = 0
    j = i - 1
    while j >= 0:
        t = toks[j].text
        if t in (")", "]"):
            depth += 1
        elif t in ("(", "["):
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and t in STOP_LEFT:
            break
        j -= 1
    return j + 1


def operand_right(toks, i):
    """Index of the last token of the operand starting at toks[i + 1]."""
    depth = 0
    j = i + 1
    while j < len(toks):
        t = toks[j].text
        if t in ("(", "["):
            depth += 1
        elif t in (")", "]"):
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and t in STOP_RIGHT:
            break
        j += 1
    return j - 1


def binary_context(prev):
    return prev is not None and (prev.kind in ("id", "num")
                                 or prev.text in (")", "]"))


def int_value(text):
    body = text.rstrip("uUlL")
    try:
        return int(body, 0), text[len(body):]
    except ValueError:
        return None, None


def mutants_of(path, src, names):
    """Yield (id, start, end, replacement, op) for one file."""
    toks = tokenize(src)
    spans = function_spans(src, names) if names else None

    def inside(off):
        return spans is None or any(a <= off < b for a, b in spans)

    out = []

    seen = set()

    def add(op, a, b, repl):
        if (a, b, repl) in seen:        # return 0 => 1 is also const 0 => 1
            return
        seen.add((a, b, repl))
        line, col = line_col(src, a)
        orig = " ".join(src[a:b].split())
        if len(orig) > 40:
            orig = orig[:37] + "..."
        mid = "%s:%d:%d:%s:{%s}->{%s}" % (os.path.basename(path), line, col, op,
                                      orig, " ".join(repl.split())[:40])
        out.append((mid, a, b, repl, op))

    for i, t in enumerate(toks):
        if not inside(t.start):
            continue
        prev = toks[i - 1] if i > 0 else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if t.kind == "op" and t.text in CMP_FLIP:
            if t.text in ("<", ">") and not binary_context(prev):
                continue
            for r in CMP_FLIP[t.text]:
                add("cmp", t.start, t.end, r)
        elif t.kind == "op" and t.text in ("&&", "||"):
            add("logic", t.start, t.end, "||" if t.text == "&&" else "&&")
            lo = operand_left(toks, i)
            hi = operand_right(toks, i)
            if lo < i:
                add("dropl", toks[lo].start, t.end, "")
            if hi > i:
                add("dropr", t.start, toks[hi].end, "")
        elif t.kind == "op" and t.text == "!":
            add("not", t.start, t.end, "")
        elif t.kind == "op" and t.text in ("+", "-") and binary_context(prev):
            add("arith", t.start, t.end, "-" if t.text == "+" else "+")
        elif t.kind == "op" and t.text in ("+=", "-="):
            add("arith", t.start, t.end, "-=" if t.text == "+=" else "+=")
        elif t.kind == "num":
            v, suffix = int_value(t.text)
            if v is None:
                continue
            # Buffer sizes ([40]) change nothing a test can see.
            if prev and prev.text == "[" and nxt and nxt.text == "]" \
                    and v >= 8:
                continue
            add("const", t.start, t.end, "%d%s" % (v + 1, suffix))
            if v > 0:
                add("const", t.start, t.end, "%d%s" % (v - 1, suffix))
        elif t.kind == "id" and t.text == "if" and nxt and nxt.text == "(":
            depth, j = 0, i + 1
            while j < len(toks):
                if toks[j].text == "(":
                    depth += 1
                elif toks[j].text == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            a, b = toks[i + 2].start, toks[j].start
            add("negif", a, b, "!(" + src[a:b] + ")")
        elif t.kind == "id" and t.text == "return" and nxt \
                and nxt.text != ";":
            j = i + 1
            while toks[j].text != ";":
                j += 1
            expr = src[toks[i + 1].start:toks[j - 1].end]
            if expr in ("0", "1"):
                add("return", toks[i + 1].start, toks[j - 1].end,
                    "1" if expr == "0" else "0")
            elif expr == "-1":
                add("return", toks[i + 1].start, toks[j - 1].end, "0")
            else:
                add("return", toks[i + 1].start, toks[j - 1].end, "0")
    return out


def all_mutants(root, seed, per_file):
    """The mutants to run: per file all, or a sample of its cap (or of
    per_file, if given: 0 means all)."""
    chosen, totals = [], {}
    for path, names, cap in TARGETS:
        with open(os.path.join(root, path)) as f:
            src = f.read()
        ms = mutants_of(path, src, names)
        totals[path] = len(ms)
        if per_file is not None:
            cap = per_file or None
        if cap and len(ms) > cap:
            rng = random.Random("%d:%s" % (seed, path))
            keep = sorted(rng.sample(range(len(ms)), cap))
            ms = [ms[k] for k in keep]
        chosen += [(path,) + m for m in ms]
    return chosen, totals


def sh(cmd, cwd, timeout=None, log=None, env=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout,
                           env=env)
        if log is not None:
            log.append(p.stdout.decode(errors="replace")[-2000:])
        return p.returncode
    except subprocess.TimeoutExpired:
        return "timeout"


class Scratch:
    """A copy of the tree with its own build directory."""

    def __init__(self, root, base):
        self.dir = tempfile.mkdtemp(prefix="qshape-mutate.", dir=base)
        pack = subprocess.Popen(["tar", "-C", root, "--exclude=./build",
                                 "--exclude=./.git", "-cf", "-", "."],
                                stdout=subprocess.PIPE)
        subprocess.run(["tar", "-C", self.dir, "-xf", "-"],
                       stdin=pack.stdout, check=True)
        if pack.wait() != 0:
            raise SystemExit("mutate: cannot copy the tree")
        self.flaky = []
        self.units = sorted(os.path.basename(p)[:-2] for p in os.listdir(
            self.dir + "/tests/unit") if p.startswith("test_")
            and p.endswith(".c"))

    def make(self, units=None):
        """Build the given unit tests, or everything the tiers run."""
        if units is not None:
            targets = ["build/" + u for u in units]
        else:
            targets = ["build/qshapectl", "build/qgen", "build/addrq"] + \
                ["build/" + u for u in self.units]
        return sh(["make", "-s", "-j1"] + targets, self.dir)

    def order(self, path):
        first = [u for u in FIRST.get(path, []) if u in self.units]
        rest = [u for u in self.units if u not in first
                and u not in SLOW_LAST]
        return first + rest + [u for u in SLOW_LAST if u in self.units]

    def run(self, path, deep=True, built=()):
        """'killed', 'timeout' or 'survived', and the test that decided.
        The tests in 'built' are built; the rest are built here."""
        built_all = not built
        for u in self.order(path):
            if u not in built and not built_all:
                if self.make() != 0:
                    return "build", "-"
                built_all = True
            rc = sh(["./build/" + u], self.dir, timeout=60)
            if rc != 0 and u not in FIRST.get(path, []):
                # Not the file's own test: a kill must repeat (the
                # scanner's tests use inotify and timing, and the
                # machine may be busy).
                rc2 = sh(["./build/" + u], self.dir, timeout=60)
                if rc2 == 0:
                    self.flaky.append(u)
                    continue
                rc = rc2
            if rc == "timeout":
                return "timeout", u
            if rc != 0:
                return "killed", u
        if not deep:
            return "survived", "unit"
        # The file's own unit tests under ASan/UBSan (leaks, overruns).
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:exitcode=86",
                   UBSAN_OPTIONS="halt_on_error=1",
                   LSAN_OPTIONS="suppressions=%s/tests/lsan.supp"
                   % self.dir)
        for u in FIRST.get(path, []):
            if u not in self.units:
                continue
            if sh(["make", "-s", "-j1", "build/asan/" + u], self.dir) != 0:
                return "build", "asan"
            rc = sh(["./build/asan/" + u], self.dir, timeout=120, env=env)
            if rc == "timeout":
                return "timeout", "asan " + u
            if rc != 0:
                return "killed", "asan " + u
        if path not in DATA_SYSTEM:
            return "survived", "all"
        rc = sh(["sh", "tests/run-all", "build", "data", "system"],
                self.dir, timeout=300)
        if rc == "timeout":
            return "timeout", "data/system"
        if rc != 0:
            return "killed", "data/system"
        return "survived", "all"

    def mutant(self, m, deep=True):
        path, mid, a, b, repl, op = m
        full = os.path.join(self.dir, path)
        with open(full) as f:
            orig = f.read()
        try:
            with open(full, "w") as f:
                f.write(orig[:a] + repl + orig[b:])
            # The file's own tests first: most mutants die there, before
            # the other programs are linked again.
            first = [u for u in FIRST.get(path, []) if u in self.units]
            if self.make(first) != 0:
                return "build", "-"
            return self.run(path, deep, built=first)
        finally:
            with open(full, "w") as f:
                f.write(orig)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def load_equivalent(root):
    eq = {}
    path = os.path.join(root, "tests/mutate/equivalent.txt")
    if os.path.exists(path):
        for line in open(path):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            mid, _, why = line.partition("  ")
            eq[mid.strip()] = why.strip()
    return eq


def report(results, totals, eq, args, elapsed, out):
    lines = []
    w = lines.append
    w("mutation tier: seed %d, %s, %d s" % (
        args.seed, "sampled as TARGETS says" if args.per_file is None
        else "at most %d per file" % args.per_file if args.per_file
        else "every mutant", elapsed))
    w("%-22s %6s %6s %6s %6s %6s %6s %6s %7s" % (
        "file", "made", "run", "killed", "timeout", "surv", "equiv",
        "build", "score"))
    gk = gd = 0
    for path, _, _ in TARGETS:
        rs = [r for r in results if r[0][0] == path]
        if not rs:
            continue
        n = {}
        for m, st, _ in rs:
            key = "equiv" if st == "survived" and m[1] in eq else st
            n[key] = n.get(key, 0) + 1
        killed = n.get("killed", 0) + n.get("timeout", 0)
        denom = len(rs) - n.get("equiv", 0) - n.get("build", 0)
        gk += killed
        gd += denom
        w("%-22s %6d %6d %6d %6d %6d %6d %6d %6.1f%%" % (
            os.path.basename(path), totals[path], len(rs),
            n.get("killed", 0), n.get("timeout", 0), n.get("survived", 0),
            n.get("equiv", 0), n.get("build", 0),
            100.0 * killed / denom if denom else 100.0))
    w("%-22s %69.1f%%" % ("overall", 100.0 * gk / gd if gd else 100.0))
    w("")
    for m, st, by in results:
        if st == "survived":
            why = eq.get(m[1])
            w("%s %s%s" % ("EQUIVALENT" if why else "SURVIVED  ", m[1],
                           "  (" + why + ")" if why else ""))
    stale = sorted(set(eq) - {m[1] for m, _, _ in results})
    made = set()
    for path, names, _ in TARGETS:
        with open(os.path.join(args.root, path)) as f:
            made |= {x[0] for x in mutants_of(path, f.read(), names)}
    for mid in stale:
        if mid not in made:
            w("STALE equivalent.txt entry (no such mutant): %s" % mid)
    text = "\n".join(lines) + "\n"
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "results.txt"), "w") as f:
        for m, st, by in results:
            f.write("%s\t%s\t%s\n" % (st, by, m[1]))
    sys.stdout.write(text)
    return gk, gd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--per-file", type=int, default=None,
                    help="mutants per file (0: all); default: TARGETS'")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--only", action="append")
    ap.add_argument("--fast", action="store_true",
                    help="unit tests only (no data/system tiers)")
    ap.add_argument("--out", default="build/mutate")
    ap.add_argument("--root", default=os.getcwd())
    ap.add_argument("--report", metavar="RESULTS",
                    help="only print the report of a run's results.txt")
    args = ap.parse_args()

    muts, totals = all_mutants(args.root, args.seed, args.per_file)
    if args.report:
        # The report again, from a run's results.txt and the current
        # equivalent.txt (the sources must be those of the run).
        byname = {m[1]: m for m in muts}
        results = []
        for line in open(args.report):
            line = line.rstrip("\n")
            if "\t" in line:
                st, by, mid = line.split("\t", 2)
            else:                       # older runs: spaces
                st, by, mid = re.match(r"(\S+) (.*?) (\w+\.c:\d+:.*)$",
                                       line).groups()
            results.append((byname[mid], st, by))
        report(results, totals, load_equivalent(args.root), args, 0,
               args.out)
        return 0
    if args.only:
        muts = [m for m in muts if m[1] in args.only or
                any(m[1].startswith(o) for o in args.only)]
    if args.list:
        for m in muts:
            print(m[1])
        return 0
    eq = load_equivalent(args.root)
    t0 = time.time()
    # SIGTERM and SIGINT: remove the scratch copies on the way out.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    scratches = [Scratch(args.root, "/tmp") for _ in range(args.jobs)]
    try:
        for s in scratches:
            if s.make() != 0:
                raise SystemExit("mutate: the unmutated tree does not build")
            st, by = s.run("", deep=not args.fast)
            if st != "survived":
                raise SystemExit("mutate: the unmutated tree fails (%s)" % by)
        results = [None] * len(muts)
        lock = threading.Lock()
        nxt = [0]

        def worker(s):
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= len(muts):
                    return
                st, by = s.mutant(muts[i], deep=not args.fast)
                results[i] = (muts[i], st, by)
                with lock:
                    sys.stderr.write("%4d/%d %-8s %-14s %s\n" % (
                        i + 1, len(muts), st, by, muts[i][1]))
                    sys.stderr.flush()

        th = [threading.Thread(target=worker, args=(s,), daemon=True)
              for s in scratches]
        for t in th:
            t.start()
        for t in th:
            t.join()
    finally:
        for s in scratches:
            s.close()
    flaky = [u for s in scratches for u in s.flaky]
    if flaky:
        sys.stderr.write("mutate: failed once, then passed (not counted as "
                         "kills): %s\n" % " ".join(flaky))
    gk, gd = report(results, totals, eq, args, time.time() - t0, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
