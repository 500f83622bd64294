#!/usr/bin/env python3
"""Import circles between the files of each crate: exits 1 and lists them when any exist.

A file imports another when one of its `use` paths (or a `crate::`/`super::`/`self::` path in
code) names an item of the other's module. A name that a module re-exports (`pub use x::Y`) is
followed to where it is defined, so `use crate::Ports` counts as importing `ports.rs`, not the
crate root. `mod x;` declarations are not imports. A file's test module (`tests.rs` beside it or
`mod tests { … }` inside it) counts too: circles are read in the code as written.
"""
import re
import sys
from pathlib import Path

USE = re.compile(r"\buse\s+((?:crate|super|self)(?:::[\w{}\s,*:]+)?)\s*;", re.S)
PATH = re.compile(r"\b((?:crate|super|self)(?:::\w+)+)")
REEXPORT = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+([\w:]+)::\{?([\w,\s]+)\}?\s*;")


def module_files(src: Path):
    """Module path (tuple) → file, for every .rs file under src."""
    files = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts in (["lib"], ["main"]):
            parts = []
        elif parts[-1] == "mod":
            parts = parts[:-1]
        files[tuple(parts)] = f
    return files


def expand(tree: str):
    """`a::{b, c::d}` → ['a::b', 'a::c::d']."""
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        return [tree]
    prefix, inner = tree[:brace], tree[brace + 1:-1]
    depth, start, out = 0, 0, []
    for i, ch in enumerate(inner + ","):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            part = inner[start:i]
            if part:
                out += expand(prefix + part)
            start = i + 1
    return out


def absolute(module, path):
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = [], parts[1:]
    else:
        base = list(module)
        rest = parts
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    return tuple(base + [p for p in rest if p not in ("*", "self")])


def crate_edges(src: Path):
    files = module_files(src)
    texts = {m: f.read_text() for m, f in files.items()}
    # re-exports: (module, name) → absolute path of the item
    reexports = {}
    for m, text in texts.items():
        for prefix, names in REEXPORT.findall(text):
            if not prefix.startswith(("crate", "super", "self")) and prefix.split("::")[0] not in {
                p[0] for p in files if p
            }:
                continue
            if not prefix.startswith(("crate", "super", "self")):
                prefix = "self::" + prefix
            for name in re.split(r"[,\s]+", names.strip()):
                if name:
                    reexports[(m, name)] = absolute(m, prefix + "::" + name)

    def resolve(path, seen=0):
        # the longest prefix that is a module file; follow a re-export of the next name
        for cut in range(len(path), -1, -1):
            if path[:cut] in files:
                mod = path[:cut]
                if cut < len(path) and (mod, path[cut]) in reexports and seen < 8:
                    return resolve(reexports[(mod, path[cut])] + path[cut + 1:], seen + 1)
                return mod
        return ()

    edges = {}
    for m, text in texts.items():
        code = re.sub(r"//[^\n]*", "", text)
        # An indented `use super::` sits in an inline module (`mod tests { … }`), whose `super`
        # is this very file.
        code = re.sub(r"(?m)^(\s+use\s+)super::", r"\1self::", code)
        targets = set()
        for tree in USE.findall(code):
            for path in expand(tree):
                targets.add(resolve(absolute(m, path)))
        for path in PATH.findall(code):
            targets.add(resolve(absolute(m, path)))
        # a module's own children and itself are not imports of another file's
        edges[m] = {t for t in targets if t != m}
    return files, edges


def cycles(edges):
    found, index, low, stack, on, counter = [], {}, {}, [], set(), [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            strong(v)
    return found


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    bad = 0
    for manifest in sorted(root.glob("**/Cargo.toml")):
        src = manifest.parent / "src"
        # Build output and vendored crates (not our code; see vendor/README.md) are skipped.
        if {"target", "vendor"} & set(manifest.parts) or not src.is_dir():
            continue
        files, edges = crate_edges(src)
        for comp in cycles(edges):
            bad += 1
            names = sorted(str(files[m].relative_to(root)) for m in comp)
            print("import circle: " + " <-> ".join(names))
    if bad:
        sys.exit(1)
    print("no import circles")


if __name__ == "__main__":
    main()
