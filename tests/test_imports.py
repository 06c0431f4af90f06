"""The package's modules import each other without a cycle, so each can be read (and
loaded) after the ones it uses.

The graph is read from the source with ``ast``, not by importing: every ``import`` and
``from ... import`` of a module of ``assistant``, relative or absolute, at module level or
inside a function. A lazy import inside a function is still a dependency (the function
cannot run without the module), so it counts; it only postpones the loading. Imports under
``if TYPE_CHECKING:`` count not: they exist for the type checker and never run.
Importing ``assistant.x.y`` also runs ``assistant/x/__init__.py`` first; that implied edge
is left out, as Python handles a package still initialising when one of its submodules is
imported by name."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"

Graph = dict[str, dict[str, str]]  # module -> {module it imports -> "file:line" of the first}


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package (a package is its __init__)."""
    out: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in ``tree``, at any depth, except those under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _targets(
    node: ast.Import | ast.ImportFrom, name: str, path: Path, known: set[str]
) -> list[str]:
    """The package's modules one import statement in module ``name`` names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in known]
    if node.level:
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    out: list[str] = []
    for alias in node.names:
        submodule = f"{source}.{alias.name}"  # ``from . import render`` names a module
        if submodule in known:
            out.append(submodule)
        elif source in known:
            out.append(source)
    return out


def import_graph() -> Graph:
    found = modules()
    known = set(found)
    graph: Graph = {}
    for name, path in found.items():
        edges = graph.setdefault(name, {})
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree):
            for target in _targets(node, name, path, known):
                if target != name:
                    where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                    edges.setdefault(target, where)
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle of ``graph`` as the modules along it (the first repeated at the end), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path, on_path = [start], {start}
        stack = [iter(sorted(graph[start]))]
        while stack:
            target = next(stack[-1], None)
            if target is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                path.append(target)
                on_path.add(target)
                stack.append(iter(sorted(graph.get(target, {}))))
    return None


def describe(graph: Graph, cycle: list[str]) -> str:
    return "\n".join(
        f"  {a} -> {b}  ({graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)
    )


def test_the_package_imports_no_cycle() -> None:
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "the package's modules import each other in a cycle:\n" + describe(
        graph, cycle
    )


def test_the_graph_holds_every_kind_of_import() -> None:
    """The parser sees what the cycle test relies on: relative, absolute, lazy, subpackage."""
    graph = import_graph()
    assert "assistant.lexical" in graph["assistant.catalog"]  # from .lexical import ...
    assert "assistant.ingest.clean" in graph["assistant.ingest.textfile"]  # from assistant....
    assert "assistant.mcpserver" in graph["assistant.cli"]  # from . import mcpserver, lazily
    assert "assistant.ingest" in graph["assistant.workers"]  # from . import ingest (a package)


def test_imports_under_type_checking_are_left_out() -> None:
    source = """
from typing import TYPE_CHECKING
from .a import x
if TYPE_CHECKING:
    from .b import y
else:
    from .c import z
def f():
    import assistant.d
"""
    found = [
        n.module if isinstance(n, ast.ImportFrom) else n.names[0].name
        for n in _imports(ast.parse(source))
    ]
    assert found == ["typing", "a", "c", "assistant.d"]


def test_a_cycle_is_found_and_named() -> None:
    graph: Graph = {"a": {"b": "a.py:1"}, "b": {"c": "b.py:1"}, "c": {"a": "c.py:1"}, "d": {}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert describe(graph, ["a", "b", "c", "a"]).splitlines()[2] == "  c -> a  (c.py:1)"
    assert find_cycle({"a": {"b": ""}, "b": {}, "c": {"a": "", "b": ""}}) is None
