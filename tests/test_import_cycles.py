"""No import cycles: the page's ES modules (static/js/**/*.js) and the server's Python modules (app/**/*.py) each
import one another without a circle.

A cycle between modules means neither can be read, tested or replaced alone, and ES modules in a cycle see each
other's bindings before they are initialised. The page keeps its shared state in one store (static/js/store.js)
that modules read and subscribe to, so no module needs to import the one that imports it. On the server an import
that only type checkers follow (``if TYPE_CHECKING:``) or one inside a function still counts: it is the same
dependency, hidden.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "static" / "js"

# `import … from "./x.js"`, `import "./x.js"`, `export … from "./x.js"` and `import("./x.js")`, over several lines.
JS_IMPORT = re.compile(r"""(?:\bimport\s*(?:[\w*${}\s,]+\s*from\s*)?|\bexport\s*[\w*${}\s,]+\s*from\s*|\bimport\s*\(\s*)
                           ["'](\.{1,2}/[^"']+)["']""", re.VERBOSE)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path [a, b, …, a], or None when the graph is acyclic (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if state.get(root):
            continue
        path = [root]
        stack = [iter(sorted(graph.get(root, ())))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def js_graph(root: Path = JS) -> dict[str, set[str]]:
    """module (path relative to ``root``) → the modules it imports."""
    graph: dict[str, set[str]] = {}
    for f in sorted(root.rglob("*.js")):
        name = f.relative_to(root).as_posix()
        text = re.sub(r"/\*.*?\*/", "", f.read_text(encoding="utf-8"), flags=re.S)
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
        deps = set()
        for spec in JS_IMPORT.findall(text):
            target = (f.parent / spec).resolve()
            assert target.exists(), f"{name} imports {spec}, which does not exist"
            deps.add(target.relative_to(root.resolve()).as_posix())
        graph[name] = deps
    return graph


def test_find_cycle_finds_one_and_only_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_page_modules_import_no_cycle() -> None:
    graph = js_graph()
    assert "app.js" in graph and "store.js" in graph["app.js"] | {d for g in graph.values() for d in g}
    cycle = find_cycle(graph)
    assert cycle is None, "static/js import cycle: " + " → ".join(cycle or [])


def py_graph(package: str = "app") -> dict[str, set[str]]:
    """module (dotted name) → the modules of ``package`` it imports, anywhere in its source."""
    root = ROOT / package
    names = {}
    for f in sorted(root.rglob("*.py")):
        parts = f.relative_to(ROOT).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    graph: dict[str, set[str]] = {}
    for name, f in names.items():
        here = name if f.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                # `from pkg import mod` imports the module pkg.mod when there is one, else a name of pkg
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in names else base for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in names and t != name}
        graph[name] = deps
    return graph


def test_server_modules_import_no_cycle() -> None:
    graph = py_graph()
    assert "app.runs.controls" in graph["app.runs.manager"]
    cycle = find_cycle(graph)
    assert cycle is None, "app/ import cycle: " + " → ".join(cycle or [])
