#!/usr/bin/env python3
"""The longest functions in src/: lines from each `fn` to its closing brace, longest first.

Usage: scripts/longest-fns.py [N] [--files]
  N        how many to list (default 5)
  --files  also list every file in src/ with its line count

Braces inside strings (raw ones included), char literals and comments are skipped, so
`format!("{x}")` does not count. Nested functions and closures count inside their parent, and
a nested `fn` is listed too. Test modules (`#[cfg(test)] mod tests`) are skipped.
"""
import pathlib
import re
import sys

FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")


def code_mask(text):
    """The text with strings, chars and comments blanked (newlines kept), so braces are code."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i : j + 1]))
            i = j + 1
        elif c == "'":
            # A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a): only the former is skipped.
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    text = path.read_text()
    code = code_mask(text)
    # Drop the unit-test module: it is not the program's shape.
    cut = re.search(r"#\[cfg\(test\)\]\s*mod\s+tests\b", code)
    if cut:
        code = code[: cut.start()]
    for m in FN.finditer(code):
        start = m.start()
        # The body starts at the first `{` after the signature, unless a `;` (a declaration) comes first.
        j = start
        while j < len(code) and code[j] not in "{;":
            j += 1
        if j >= len(code) or code[j] == ";":
            continue
        depth = 0
        k = j
        while k < len(code):
            if code[k] == "{":
                depth += 1
            elif code[k] == "}":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        first = code.count("\n", 0, start) + 1
        last = code.count("\n", 0, k) + 1
        yield m.group(1), first, last - first + 1


def main():
    args = sys.argv[1:]
    count = next((int(a) for a in args if a.isdigit()), 5)
    root = pathlib.Path(__file__).resolve().parent.parent
    files = sorted((root / "src").rglob("*.rs"))
    found = []
    for path in files:
        rel = path.relative_to(root)
        for name, line, length in functions(path):
            found.append((length, f"{rel}:{name}", line))
    found.sort(key=lambda f: (-f[0], f[1]))
    for length, where, line in found[:count]:
        print(f"{length:5} lines  {where} (line {line})")
    if "--files" in args:
        print()
        total = 0
        for path in files:
            lines = path.read_text().count("\n")
            total += lines
            print(f"{lines:6}  {path.relative_to(root)}")
        print(f"{total:6}  total ({len(files)} files)")


if __name__ == "__main__":
    main()
