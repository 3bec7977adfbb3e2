"""The code's shape, from its own source (ast): no import cycles, layers pointing one way,
functions under 50 lines (issue 13)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"seqgen": ROOT / "seqgen", **{p.name: p for p in (ROOT / "plugins").iterdir()
                                          if (p / "__init__.py").exists()}}
MAX_FUNCTION_LINES = 50


def _module_name(path: Path) -> str:
    for pkg, base in PACKAGES.items():
        if path.is_relative_to(base):
            parts = [pkg, *path.relative_to(base).with_suffix("").parts]
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise AssertionError(path)


def modules() -> dict[str, Path]:
    return {_module_name(p): p for base in PACKAGES.values() for p in sorted(base.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The known module an imported name lands in: the module, or the package holding it."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(known: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports, anywhere in its body: lazy imports and
    ``if TYPE_CHECKING:`` imports count (a cycle hidden in a function or behind a type is still
    two modules that cannot be understood, or changed, one without the other)."""
    graph: dict[str, set[str]] = {}
    for mod, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                    + ([base] if base else []))
                # `from pkg import mod` needs mod, not pkg's __init__ (which Python runs
                # first, but which a module does not depend on for that)
                names = [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            found |= {r for n in names if (r := _resolve(n, known)) and r != mod}
        graph[mod] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert cycles(imports(modules())) == []


#: below the engine: the error type, atomic file writes and the typed settings, which
#: import nothing of seqgen but each other (the one settings object passed down)
FOUNDATION = {"seqgen.errors", "seqgen.fileio", "seqgen.config"}


def test_the_engine_imports_nothing_above_it() -> None:
    graph = imports(modules())
    for mod in FOUNDATION:
        assert graph[mod] <= FOUNDATION, f"{mod} imports {sorted(graph[mod] - FOUNDATION)}"
    engine = [m for m in graph if m.startswith("seqgen.engine")]
    assert len(engine) > 10
    for mod in engine:
        above = {d for d in graph[mod] if not d.startswith("seqgen.engine")} - FOUNDATION
        assert not above, f"{mod} imports {sorted(above)}"


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the signature (the docstring counts) to the end:
    a typer command's option declarations are its signature, not its length."""
    return int(node.end_lineno or node.lineno) - node.body[0].lineno + 1


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({_body_lines(node)} lines)"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and _body_lines(node) > MAX_FUNCTION_LINES]


def test_no_function_over_50_lines() -> None:
    found = [f for p in modules().values() for f in long_functions(p)]
    assert not found, "\n".join(found)


MAX_FILE_LINES = 330  # nanoGPT's files are about 300 lines: a module stays readable at once


def test_no_module_over_330_lines() -> None:
    sizes = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in modules().values()}
    big = [f"{p.relative_to(ROOT)} ({n} lines)" for p, n in sizes.items() if n > MAX_FILE_LINES]
    assert not big, "\n".join(big)
