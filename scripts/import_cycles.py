"""Print the runtime import cycles of a Python package; exit 1 if there is any.

    python scripts/import_cycles.py [PACKAGE_DIR]      (default: blackbull/)

The imports are read with :mod:`ast`, not executed. A *runtime* import is any
``import``/``from … import`` that runs when the module or one of its functions runs:
module level, inside functions, inside ``try: … except ImportError``. Imports under
``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``) are for the type checker only and do
not count. Only imports of modules inside the package are edges; ``from pkg import name``
is an edge to ``pkg.name`` when that is a module of the package, else to ``pkg`` itself.

Exit status: 0 without a cycle, 1 with one, 2 when a file cannot be parsed.

Each strongly connected component of more than one module (or a module importing
itself) is a cycle; one closed path through it is printed per component, e.g.
``blackbull.server.a -> blackbull.server.b -> blackbull.server.a``.
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

Graph = dict[str, set[str]]


def modules_of(package_dir: Path) -> dict[str, Path]:
    """Dotted name → file, for every ``.py`` file of the package (``__init__`` files
    name their package)."""
    root = package_dir.resolve()
    base = root.name
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if any(not part.isidentifier() for part in parts):
            continue  # not importable (e.g. a directory named with a dash)
        found[".".join([base, *parts])] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``tree`` outside ``if TYPE_CHECKING:`` bodies (their
    ``else:`` branches do run)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts.pop()  # relative to the module's package
    if node.level > 1:
        parts = parts[:len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def import_graph(package_dir: Path) -> Graph:
    """Module → the package's modules it imports at run time."""
    files = modules_of(package_dir)
    graph: Graph = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        edges = graph[name]
        for node in runtime_imports(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in files:
                        edges.add(alias.name)
                continue
            target = _absolute(name, is_package, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in files:
                    edges.add(submodule)
                elif target in files:
                    edges.add(target)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """One closed path per strongly connected component that is a cycle (Tarjan's
    algorithm, iterative), each starting and ending at its smallest name."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    components.append(sorted(component))
    return [_closed_path(graph, set(c), c[0]) for c in sorted(components)]


def components_of(graph: Graph, found: list[list[str]]) -> list[set[str]]:
    """The modules of each cycle's component (every module that reaches and is
    reached from the cycle's first one)."""
    def reach(start: str, edges: Graph) -> set[str]:
        seen = {start}
        todo = [start]
        while todo:
            for child in edges.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    reverse: Graph = {}
    for node, children in graph.items():
        for child in children:
            reverse.setdefault(child, set()).add(node)
    return [reach(path[0], graph) & reach(path[0], reverse) for path in found]


def _closed_path(graph: Graph, members: set[str], start: str) -> list[str]:
    """A shortest path ``start → … → start`` inside one component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return [start]  # unreachable for a real component


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent.parent / "blackbull"
    parser.add_argument("package", nargs="?", type=Path, default=default,
                        help="the package directory (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (args.package / "__init__.py").is_file():
        parser.error(f"{args.package} is not a package directory")
    try:
        graph = import_graph(args.package)
    except SyntaxError as exc:  # e.g. a merge conflict left in a file: no graph to judge
        print(f"cannot read the imports of {exc.filename}:{exc.lineno}: {exc.msg}",
              file=sys.stderr)
        return 2
    found = cycles(graph)
    for path, members in zip(found, components_of(graph, found), strict=True):
        print(" -> ".join(path))
        others = sorted(members - set(path))
        if others:
            print(f"    (other modules on cycles with these: {', '.join(others)})")
    edges = sum(len(e) for e in graph.values())
    print(f"{len(found)} import cycle(s) among {len(graph)} modules ({edges} runtime imports)"
          f" in {args.package}", file=sys.stderr if found else sys.stdout)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
