#!/usr/bin/env python3
"""Checks the direction of imports between hkaudit's modules, from the source alone.

The pipeline runs one way (README, lib.rs): a module may use only modules of a lower layer, never
a peer or one above it, and the files inside one module must not use each other in a circle.
This reads every `crate::a::b` / `super::b` path in src/ (comments and string literals left out),
so it sees `use` lines and paths written inline alike. Exits 1 listing every violation.

Run: scripts/check-imports.py      (from .ci/run; prints the module graph with -v)
"""
import pathlib
import re
import sys

# Lower numbers are further down. A module may use modules of strictly lower layers only.
LAYERS = {
    # Shared helpers every stage may use: they use no other module of the crate.
    "errors": 0,
    "fsutil": 0,
    "redact": 0,
    "stack": 0,
    "output": 0,
    "published": 0,
    "heroku": 1,
    "snapshot": 2,
    # The stages that read the API or a snapshot, and the stand-in for the API.
    "extract": 3,
    "sandbox": 3,
    "analyze": 3,
    # Readers of findings: neither may use the other.
    "report": 4,
    "history": 4,
}

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"
PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+|::\{)")


def strip(text: str) -> str:
    """The code without comments, string and char literals (a path in a message is no import)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "r" and re.match(r'r#*"', text[i:]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            i = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4] + "  "):
            m = re.match(r"'(\\[^']*|[^\\'])'", text[i:])
            i += len(m.group(0)) if m else 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_of(path: pathlib.Path):
    """(top-level module, file's module path inside it) for a file under src/."""
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod":
        parts.pop()
    return parts


def use_groups(code: str):
    """Every path a file names: `crate::a::{b, c::d}` gives crate::a::b and crate::a::c::d."""
    for m in re.finditer(r"\b(crate|super)::", code):
        start = m.start()
        # Read the path, expanding one level of braces (enough for this crate's use lines).
        j = m.end()
        head = code[start:j]
        tail = re.match(r"[A-Za-z0-9_:]*", code[j:]).group(0)
        path = head + tail
        k = j + len(tail)
        if code[k:k + 1] == "{":
            depth, end = 0, k
            while end < len(code):
                if code[end] == "{":
                    depth += 1
                elif code[end] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                end += 1
            inner = code[k + 1:end]
            for item in re.split(r",(?![^{]*\})", inner):
                item = re.match(r"\s*([A-Za-z0-9_:]*)", item).group(1)
                if item and item != "self":
                    yield path + item
                elif item == "self":
                    yield path.rstrip(":")
        else:
            yield path.rstrip(":")


def resolve(parts, path):
    """Absolute module path (list) a `crate::`/`super::` path points into."""
    segs = path.split("::")
    if segs[0] == "crate":
        return segs[1:]
    here = list(parts)
    while segs and segs[0] == "super":
        segs.pop(0)
        here = here[:-1]
    return here + segs


def main() -> int:
    verbose = "-v" in sys.argv
    problems = []
    edges = {}  # top module -> {sibling submodule: {sibling submodules it uses}}
    graph = {}
    for path in sorted(SRC.rglob("*.rs")):
        parts = module_of(path)
        top = parts[0]
        if top in ("main", "lib", "cli"):
            continue  # the binary edge and the crate root may use everything
        if top not in LAYERS:
            problems.append(f"{path.relative_to(SRC.parent)}: module `{top}` has no layer in {__file__}")
            continue
        code = strip(path.read_text())
        for p in use_groups(code):
            target = resolve(parts, p)
            if not target:
                continue
            other = target[0]
            if other == top:
                # Inside one module: record sibling edges between its direct submodules.
                if len(parts) >= 2 and len(target) >= 2 and target[1] != parts[1]:
                    sub = SRC / top / target[1]
                    if (SRC / top / (target[1] + ".rs")).exists() or (sub / "mod.rs").exists():
                        edges.setdefault(top, {}).setdefault(parts[1], set()).add(target[1])
                continue
            if other not in LAYERS:
                continue
            graph.setdefault(top, set()).add(other)
            if LAYERS[other] >= LAYERS[top]:
                where = "a peer" if LAYERS[other] == LAYERS[top] else "a later stage"
                problems.append(
                    f"{path.relative_to(SRC.parent)}: uses `{p}`: `{other}` is {where} of `{top}` "
                    f"(layers: {top} {LAYERS[top]}, {other} {LAYERS[other]})"
                )
    for top, subs in sorted(edges.items()):
        # A circle among the files of one module: depth-first search for a back edge.
        state = {}

        def visit(node, stack):
            state[node] = "open"
            for nxt in sorted(subs.get(node, ())):
                if state.get(nxt) == "open":
                    cycle = stack[stack.index(nxt):] + [nxt]
                    problems.append(f"src/{top}: circle between its files: {' -> '.join(cycle)}")
                elif nxt not in state:
                    visit(nxt, stack + [nxt])
            state[node] = "done"

        for node in sorted(subs):
            if node not in state:
                visit(node, [node])
    if verbose:
        for top in sorted(graph):
            print(f"{top} ({LAYERS[top]}) uses {', '.join(sorted(graph[top]))}")
        for top, subs in sorted(edges.items()):
            for sub, uses in sorted(subs.items()):
                print(f"  {top}::{sub} uses {', '.join(sorted(uses))}")
    for p in sorted(set(problems)):
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(set(problems))} import(s) against the pipeline's direction", file=sys.stderr)
        return 1
    print(f"imports follow the layers: {', '.join(f'{m} {l}' for m, l in sorted(LAYERS.items(), key=lambda x: (x[1], x[0])))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
