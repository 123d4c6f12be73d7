"""The import graph of `llb_core/` and `app/`: no cycles, and the app uses only the core's public names.

The graph is read from the source with `ast` (nothing is imported). Its nodes are the repository's modules, named
as Python names them; a package's `__init__.py` is the node of the package itself (`llb_core.io`). Every import
statement counts, wherever it is: at module level, inside functions and inside `if TYPE_CHECKING:` blocks (a
type-only import today is a runtime import after the next refactor). An edge goes only to the imported module
itself, never to its parent packages (those are already initialising when a submodule runs), and only between
modules of this repository.

How a statement becomes an edge:

* `import a.b.c` (with or without `as`): to `a.b.c`, or to its longest prefix that is a module of the repo.
* `from x import y`: to `x.y` when that is a module, else to `x`. Relative imports are resolved against the
  importing module's package first (`from . import y`, `from ..x import y`).
* The package rule: `from p import Name` written in a module inside package `p` (at any depth), where `p`'s
  `__init__` re-exports `Name` from one of its modules, goes to that module, not to `p`. Such an import does not
  need the whole of `p/__init__` (only the module that defines the name), so `p -> p._a -> p` is not reported;
  `from p._a import Name` is still the clearer spelling. A name that `p/__init__` defines itself, or a plain
  `import p` inside `p`, stays an edge to `p`: that really needs `p/__init__` to have run and can fail while it
  runs. Imports of `p` from outside `p` stay edges to `p` (importing them runs all of `p/__init__`).
* An edge from a module to itself is dropped.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("llb_core", "app")


@dataclass(frozen=True)
class Edge:
    """One import: `source` imports `target`, at `path`:`line`."""

    source: str
    target: str
    path: Path
    line: int

    def where(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}"


def module_name(path: Path) -> str:
    """Dotted module name of a .py file of the repo (`pkg/__init__.py` -> `pkg`)."""
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of `llb_core/` and `app/`, name -> file."""
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


@cache
def tree(name: str) -> ast.Module:
    path = modules()[name]
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def inside(module: str, package: str) -> bool:
    """True if `module` is a submodule of `package` at any depth (not `package` itself)."""
    return module.startswith(package + ".")


def absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute module name `node` imports from, relative imports resolved against `module`'s package."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".") if is_package(module) else module.split(".")[:-1]
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def known_prefix(name: str) -> str | None:
    """`name`, or its longest dotted prefix, that is a module of the repo (None if outside the repo)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules():
            return candidate
    return None


def top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run when the module is imported: the body and its if/try blocks, not functions or classes."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from top_level(stmt.body)
            yield from top_level(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody, *(h.body for h in stmt.handlers)):
                yield from top_level(block)


@cache
def reexports(package: str) -> dict[str, str]:
    """Names a package's `__init__` imports at module level, name -> the module it takes each from."""
    names = {}
    for stmt in top_level(tree(package).body):
        if isinstance(stmt, ast.ImportFrom):
            source = absolute(package, stmt)
            for alias in stmt.names:
                target = known_prefix(f"{source}.{alias.name}") if f"{source}.{alias.name}" in modules() else None
                target = target or known_prefix(source)
                if target is not None and alias.name != "*":
                    names[alias.asname or alias.name] = target
    return names


def resolve_name(importer: str, package: str, name: str) -> str:
    """The module `from package import name` in `importer` depends on, under the package rule."""
    seen = set()
    while inside(importer, package) and is_package(package) and package not in seen:
        seen.add(package)
        source = reexports(package).get(name)
        if source is None or source == package:
            break
        package = source
    return package


def imports(module: str) -> Iterator[Edge]:
    """Every edge out of `module`, from any import statement anywhere in its file."""
    path = modules()[module]
    for node in ast.walk(tree(module)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [t for alias in node.names if (t := known_prefix(alias.name)) is not None]
        elif isinstance(node, ast.ImportFrom):
            source = absolute(module, node)
            base = known_prefix(source)
            if base is None:
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in modules():
                    targets.append(sub)
                elif base == source:
                    targets.append(resolve_name(module, source, alias.name))
                else:
                    targets.append(base)
        for target in targets:
            if target != module:
                yield Edge(module, target, path, node.lineno)


@cache
def graph() -> dict[str, dict[str, Edge]]:
    """module -> {imported module -> the first statement that imports it}."""
    edges: dict[str, dict[str, Edge]] = {}
    for module in modules():
        out = edges.setdefault(module, {})
        for edge in imports(module):
            out.setdefault(edge.target, edge)
    return edges


def strongly_connected(edges: dict[str, dict[str, Edge]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def cycle_through(start: str, component: list[str], edges: dict[str, dict[str, Edge]]) -> list[Edge]:
    """A shortest chain of imports from `start` back to itself inside `component` (breadth first)."""
    members = set(component)
    previous: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target, edge in sorted(edges[node].items()):
                if target not in members or target in previous:
                    continue
                previous[target] = edge
                if target == start:
                    chain = [edge]
                    while chain[0].source != start:
                        chain.insert(0, previous[chain[0].source])
                    return chain
                following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def describe(chain: list[Edge]) -> str:
    names = " -> ".join([chain[0].source, *(e.target for e in chain)])
    return names + "\n      " + "; ".join(f"{e.source} -> {e.target} at {e.where()}" for e in chain)


def test_the_graph_is_read() -> None:
    edges = graph()
    assert {"llb_core", "llb_core.io", "llb_core.io._masks", "app", "app.window.controller"} <= set(edges)
    assert "llb_core.workspace" in edges["app.window.controller"]  # a module-level import
    assert "llb_core.workspace._import_report" in edges["llb_core.workspace._errors"]  # under TYPE_CHECKING
    assert "llb_core.workspace._import" in edges["llb_core.workspace"]  # a package re-exporting its submodule


def test_the_package_rule_resolves_reexported_names() -> None:
    assert reexports("llb_core.io")["ObjectSpec"] == "llb_core.io._objects"
    assert resolve_name("llb_core.io.export._common", "llb_core.io", "ObjectSpec") == "llb_core.io._objects"
    assert resolve_name("app.window.controller", "llb_core.io", "ObjectSpec") == "llb_core.io"  # outside the package


def test_no_import_cycles() -> None:
    edges = graph()
    cycles = [describe(cycle_through(component[0], component, edges)) for component in strongly_connected(edges)]
    if cycles:
        pytest.fail("import cycles (each chain comes back to where it starts):\n  " + "\n  ".join(cycles))


def private_part(name: str) -> str | None:
    """The first component of a dotted name that is private (starts with `_`, except `__init__`), or None."""
    return next((p for p in name.split(".") if p.startswith("_") and p != "__init__"), None)


def test_the_app_uses_only_public_core_names() -> None:
    found = []
    for module, path in modules().items():
        if not module.startswith("app"):
            continue
        for node in ast.walk(tree(module)):
            where = f"{path.relative_to(REPO_ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                found += [
                    f"{where}: import {a.name}"
                    for a in node.names
                    if a.name.split(".")[0] == "llb_core" and private_part(a.name)
                ]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("llb_core"):
                source = node.module or ""
                names = ", ".join(a.name for a in node.names)
                if private_part(source):
                    found.append(f"{where}: from {source} import {names} (private module)")
                found += [
                    f"{where}: from {source} import {a.name} (private name)" for a in node.names if private_part(a.name)
                ]
    if found:
        pytest.fail("app/ uses private llb_core names:\n  " + "\n  ".join(found))
