"""The house rules of README's "Layout", checked on the source: one scope made at the edge, no import circles,
nothing but the entry points importing the command line, and rooms of a size a reader can hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "targeting", "app_pages")

#: Where a question is resolved into a Scope: the command line, the app, precompute, and the scope itself.
EDGE = ("targeting/commands/", "targeting/cli.py", "targeting/__main__.py", "targeting/precompute.py",
        "targeting/scope.py", "app_pages/", "streamlit_app.py")
#: Where the resolvers and the editions are defined (they call themselves).
OWNERS = {"targeting/areas.py": {"resolve_area", "resolve_icb", "resolve_pcn"},
          "geo/atlas.py": {"edition", "of"}, "geo/editions.py": {"of"}}
#: Calls that resolve an area or pick an edition again, and the atlas's old derived-state hook.
FORBIDDEN = {"resolve_area", "resolve_icb", "resolve_pcn", "edition", "of", "memo", "lsoas"}


def _sources(*roots: str) -> list[Path]:
    return [*sorted(p for r in roots for p in (ROOT / r).rglob("*.py")), ROOT / "streamlit_app.py"]


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def _module(p: Path) -> str:
    parts = list(p.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _called(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Attribute):
        # Edition.of(…), atlas.edition(…), atlas.memo(…), atlas.lsoas(…)
        owner = f.value.id if isinstance(f.value, ast.Name) else None
        if f.attr == "of" and owner != "Edition":
            return None
        return f.attr
    return f.id if isinstance(f, ast.Name) else None


def test_nothing_below_the_edge_resolves_an_area_or_picks_an_edition():
    found = []
    for p in _sources(*PACKAGES):
        rel = _rel(p)
        if rel.startswith(EDGE):
            continue
        allowed = OWNERS.get(rel, set())
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Call):
                name = _called(node)
                if name in FORBIDDEN and name not in allowed:
                    found.append(f"{rel}:{node.lineno} {name}(…)")
    assert not found, "below the edge, take the Scope (or its Edition) instead:\n" + "\n".join(found)


def _imports(p: Path) -> set[str]:
    mod = _module(p)
    out = set()
    for node in ast.walk(ast.parse(p.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".") if p.name == "__init__.py" else mod.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.add(name)
            out |= {f"{name}.{a.name}" for a in node.names}
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in _sources(*PACKAGES)}
    return {m: {d for d in _imports(p) if d in files and d != m} for m, p in files.items()}


def test_nothing_outside_the_command_line_imports_it():
    entry = {"targeting.cli", "targeting.__main__"}
    bad = sorted(f"{m} imports {d}" for m, deps in _graph().items() for d in deps
                 if d.startswith("targeting.commands") and not m.startswith("targeting.commands") and m not in entry)
    assert not bad, "\n".join(bad)


def test_there_are_no_import_circles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
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
                circles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not circles, f"import circles (imports inside functions and TYPE_CHECKING count): {circles}"


def _code_lines(node: ast.AST, lines: list[str]) -> int:
    body = node.body  # type: ignore[attr-defined]
    doc: set[int] = set()
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        doc = set(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(1 for i in range(node.lineno, node.end_lineno + 1)  # type: ignore[attr-defined]
               if i not in doc and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#"))


@pytest.mark.parametrize("roots", [PACKAGES, ("tests", "benchmarks", "deploy")])
def test_every_file_is_at_most_600_lines_and_every_function_80_lines_of_code(roots):
    long_files, long_functions = [], []
    for p in _sources(*roots):
        src = p.read_text()
        lines = src.splitlines()
        if len(lines) > 600:
            long_files.append(f"{_rel(p)}: {len(lines)} lines")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _code_lines(node, lines) > 80:
                long_functions.append(f"{_rel(p)}:{node.lineno} {node.name}: {_code_lines(node, lines)} lines of code")
    assert not long_files and not long_functions, "\n".join(long_files + long_functions)


def test_the_atlas_version_is_not_set_by_hand():
    for p in _sources("geo", "targeting"):
        assert "ATLAS_VERSION" not in p.read_text(), _rel(p)
