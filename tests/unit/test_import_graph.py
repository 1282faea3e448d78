"""hunchlab's modules import each other without cycles (counting imports made inside functions),
and only downward through the layers of docs/architecture.md.

A cycle hidden in a function-level import still ties the modules into one unit: neither can be
read, tested or moved without the other, and which import runs first decides what works (issue
13 found three: project → store → fold → run → store; sweep ↔ its executors; web app ↔ routes).
The graph is built from the source with ``ast``, so it sees every import, whether or not it runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[2] / "src"


def modules(src: Path = SRC) -> dict[str, Path]:
    """Every module of the source tree by dotted name (a package by its own name)."""
    found = {}
    for path in src.rglob("*.py"):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that ``name`` imports, anywhere in its code.

    ``from pkg import mod`` is an edge to ``pkg.mod`` alone when ``mod`` is a module: importing
    a submodule runs its package's ``__init__`` first, but that is not a dependency of the code.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            subs = {f"{base}.{alias.name}" for alias in node.names} & known.keys()
            targets.update(subs)
            if len(subs) < len(node.names):
                targets.add(base)
    resolved = {_owner(t, known) for t in targets}
    return {t for t in resolved if t is not None and t != name}


def _owner(target: str, known: dict[str, Path]) -> str | None:
    """The module that defines ``target`` (``a.b.C`` → ``a.b``), if it is one of ours."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
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
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def graph_of(src: Path = SRC) -> dict[str, set[str]]:
    known = modules(src)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_hunchlab_has_no_import_cycles():
    graph = graph_of()
    assert len(graph) > 100  # the whole package was read
    found = cycles(graph)
    assert not found, "import cycles (each line: modules that import each other):\n" + "\n".join(
        " → ".join(c) for c in found)


def test_the_checker_finds_a_cycle_made_by_an_import_inside_a_function(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from pkg.c import g\n")
    (pkg / "c.py").write_text("from . import a\n")
    (pkg / "d.py").write_text("from pkg import a, b\n")  # imports into the cycle, is not part of it
    assert cycles(graph_of(tmp_path)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_importing_a_submodule_is_no_edge_to_its_package(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg.low import x\n")
    (pkg / "low.py").write_text("x = 1\n")
    (pkg / "high.py").write_text("from pkg import low\n")
    assert cycles(graph_of(tmp_path)) == []
    (pkg / "low.py").write_text("from pkg import high\n")
    assert cycles(graph_of(tmp_path)) == [["pkg.high", "pkg.low"]]


# The layers of docs/architecture.md, bottom first, by top-level module or package of hunchlab.
LAYERS = [
    "errors project rundir events eventcheck spec overrides claims identity downsample seeds who strict_json timeparse "
    "shapes",
    "store readsql runlist packed",
    "run run_config run_files run_start lifecycle background capture codecache outputs current ids",
    "stat_inputs stat_records intervals significance multiple_comparisons distributions paired power verdicts "
    "metric_info calibration plots figure_files curves plot_drawing",
    "compat integrations models",
    "run_records compare compare_sides compare_analysis compare_code compare_examples compare_text blocks report predict "
    "due journal tree triage sweeps sweep_view overlay runs_table run_page metric_series journal_page triage_page "
    "reproduce selectors prerun execute",
    "studies interp",
    "cli web mcp demo __main__",
]
# The imports that go up a layer, each with its reason in docs/architecture.md.
UPWARD = {("hunchlab.execute.captures", "hunchlab.compat"), ("hunchlab.compat.export", "hunchlab.run_records"),
          ("hunchlab.compat.export", "hunchlab.selectors"), ("hunchlab.store.triage", "hunchlab.run_records"),
          ("hunchlab.store.rebuild", "hunchlab.ids")}


def layer_of(module: str) -> int:
    top = module.split(".")[1]
    return next(i for i, names in enumerate(LAYERS) if top in names.split())


def test_every_module_has_a_layer_and_imports_only_its_own_or_lower_ones_but_the_named_exceptions():
    graph = graph_of()
    upward = set()
    for module, targets in graph.items():
        if module == "hunchlab":
            continue  # the package's public surface re-exports from every layer
        for target in targets - {"hunchlab"}:
            if layer_of(target) > layer_of(module):
                upward.add((module, ".".join(target.split(".")[:2])))
    assert upward <= UPWARD, f"imports up a layer (see docs/architecture.md): {sorted(upward - UPWARD)}"


def test_every_import_of_our_own_modules_inside_a_function_says_why_it_is_not_at_the_top():
    """An import inside a function hides a dependency from the reader; it is there only to keep an
    import cheap (SQLAlchemy, numpy, pydantic/YAML, torch off the logging path and ``--help``) or
    because the name means something else in that module. The comment on it (or the line above)
    says which, so the next reader need not guess and nobody hides a cycle this way."""
    unexplained = []
    for path in modules().values():
        lines = path.read_text().splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("hunchlab")) \
                        or isinstance(node, ast.Import) and any(a.name.startswith("hunchlab") for a in node.names):
                    here, above = lines[node.lineno - 1], lines[node.lineno - 2].strip()
                    if "#" not in here and not above.startswith("#"):
                        unexplained.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not unexplained, ("imports inside functions with no comment saying why (move them to the top, "
                             f"or say what they keep light): {sorted(set(unexplained))}")
