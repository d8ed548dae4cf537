"""The package's shape, read from the source with ``ast`` (nothing is imported): no import circle among gradlab's
modules other than the inherent Tensor/autograd/ops one, front doors (cli, estimators, playground) never imported
from below, and no file over 500 lines.

Every import counts, at module level or inside a function: a lazy import still ties the two modules together.
``import gradlab`` / ``from gradlab import x`` inside the package count as imports of ``gradlab.x`` only (a module
importing its own ancestor package is not an edge: the package's ``__init__`` is the public face, not a layer).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gradlab"
MAX_LINES = 500

# The inherent circle: Tensor methods call ops, ops build Tensors, autograd runs both.
CORE = ("gradlab", "gradlab.tensor", "gradlab.tensor_math", "gradlab.autograd", "gradlab.ops")
FRONT_DOORS = ("gradlab.cli", "gradlab.estimators", "gradlab.playground")

# Circles allowed besides the core one: none (issue 15 removed cli <-> charlm, io <-> io_checkpoint and the
# estimators' serialization circle). Add an entry only with a reason.
ALLOWED_CIRCLES: list[frozenset[str]] = []
# (importer, front door) pairs allowed below the front doors: none.
ALLOWED_FRONT_DOOR_IMPORTS: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _resolve(name: str, mods: dict[str, Path]) -> str | None:
    """The module ``name`` lives in: itself, or the nearest package above it (``gradlab.nn.Linear`` -> gradlab.nn)."""
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path, mods: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join(parts[:keep] + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target != "gradlab" and not target.startswith("gradlab."):
                continue
            resolved = _resolve(target, mods)
            if resolved is None or resolved == module:
                continue
            if module.startswith(resolved + ".") and mods[resolved].name == "__init__.py":
                continue  # a module importing its own ancestor package
            found.add(resolved)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: _imports(m, p, mods) for m, p in mods.items()}


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    comps: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(graph[start])))]
        while work:
            node, successors = work[-1]
            nxt = next(successors, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.add(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    comps.append(comp)
    return comps


def _in(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _is_core(module: str) -> bool:
    return module == "gradlab" or _in(module, CORE[1:])


def test_the_graph_is_read():
    graph = _graph()
    assert "gradlab.nn.module" in graph and "gradlab.tensor" in graph
    assert "gradlab.autograd" in graph["gradlab.tensor"] or "gradlab.autograd.grad_mode" in graph["gradlab.tensor"]


def test_strongly_connected_components_are_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _strongly_connected(graph) == [{"a", "b", "c"}]


def test_no_import_circle_outside_the_tensor_autograd_ops_core():
    circles = []
    for comp in _strongly_connected(_graph()):
        rest = {m for m in comp if not _is_core(m)}
        if rest and not any(rest <= allowed for allowed in ALLOWED_CIRCLES):
            circles.append(" <-> ".join(sorted(comp)))
    assert not circles, "import circles (break them: nothing imports upward):\n" + "\n".join(circles)


def test_front_doors_are_not_imported_from_below():
    bad = []
    for module, imported in _graph().items():
        if _in(module, FRONT_DOORS) or module == "gradlab.__main__":
            continue
        for target in sorted(imported):
            if _in(target, FRONT_DOORS) and (module, target) not in ALLOWED_FRONT_DOOR_IMPORTS:
                bad.append(f"{module} imports {target}")
    assert not bad, "front doors (cli, estimators, playground) imported from below:\n" + "\n".join(bad)


def test_no_file_over_500_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > MAX_LINES:
            long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not long, f"files over {MAX_LINES} lines (split them):\n" + "\n".join(long)
