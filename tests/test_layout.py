"""The package's shape: each stage in one module, imports flowing one way (STYLE.md).

Read from the source with :mod:`ast`, so a cycle hidden inside a function, or a module
that reaches for another's private names, fails here even when Python would import it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "optimiser"

# Layers from the bottom: a module may import from its own layer or the ones below, never
# above. The solver engines are the only place solver objects are made; explaining and
# exploring sit above solving.
LAYERS = [
    {"optimiser.version", "optimiser.problems", "optimiser.schema", "optimiser.values", "optimiser.formats",
     "optimiser.safe_text"},
    {"optimiser.wording"},
    {"optimiser.read", "optimiser.read_sandbox", "optimiser.read_errors", "optimiser.levers",
     "optimiser.portfolio"},
    {"optimiser.validate", "optimiser.scenario", "optimiser.template", "optimiser.plan",
     "optimiser.runs"},
    {"optimiser.coverage"},
    {"optimiser.model"},
    {"optimiser.bound"},
    {"optimiser.solvers", "optimiser.solvers.base", "optimiser.solvers.highs", "optimiser.solvers.cbc"},
    {"optimiser.stages"},
    {"optimiser.prices"},
    {"optimiser.tables"},
    {"optimiser.solve"},
    {"optimiser.processes", "optimiser.diagnose"},
    {"optimiser.entry", "optimiser.sensitivity", "optimiser.why", "optimiser.alternatives"},
]
SOLVER_LAYER = {f"optimiser.solvers{part}" for part in ("", ".base", ".highs", ".cbc")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> list[tuple[str, list[str], bool]]:
    """(module imported, names taken from it, inside a function?) for every import."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, [], in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                names = [alias.name for alias in child.names]
                found.append((child.module, names, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def _targets(module: str, names: list[str]) -> set[str]:
    """The package's modules an import statement loads explicitly (a name that is
    itself a submodule counts as that submodule)."""
    if module not in MODULES:
        return set()
    submodules = {f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES}
    plain = [n for n in names if f"{module}.{n}" not in MODULES]
    return submodules | ({module} if plain or not names else set())


def _graph() -> dict[str, set[str]]:
    return {
        name: set().union(*(_targets(m, names) for m, names, _ in _imports(name))) - {name}
        for name in MODULES
    }


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_module_imports_another_modules_private_names():
    reaching = [
        f"{name} imports {n} from {module}"
        for name in MODULES
        for module, names, _ in _imports(name)
        if module.startswith("optimiser")
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert not reaching


def test_no_function_level_imports_of_the_package():
    hidden = [
        f"{name} imports {module} inside a function"
        for name in MODULES
        for module, _, in_function in _imports(name)
        if in_function and (module == "optimiser" or module.startswith("optimiser."))
    ]
    assert not hidden


@pytest.mark.parametrize("low", range(len(LAYERS)))
def test_a_layer_imports_nothing_above_it(low):
    above = set().union(*LAYERS[low + 1:]) | {"optimiser", "optimiser.cli", "optimiser.commandline"}
    above |= {m for m in MODULES if m.startswith(("optimiser.explore", "optimiser.report"))}
    above |= {m for m in MODULES if m.startswith("optimiser.samples")}
    graph = _graph()
    upward = sorted(f"{name} -> {t}" for name in LAYERS[low] for t in graph[name] & above)
    assert not upward


def test_only_the_solver_layer_makes_solver_objects():
    makers = ("highspy", "pulp.HiGHS", "PULP_CBC_CMD", "pulp.apis")
    outside = []
    for name, path in MODULES.items():
        if name in SOLVER_LAYER:
            continue
        text = path.read_text(encoding="utf-8")
        outside += [f"{name} uses {m}" for m in makers if m in text]
        outside += [f"{name} imports {m}" for m, _, _ in _imports(name) if m.startswith("highspy")]
    assert not outside


def test_solving_knows_nothing_of_what_explains_it():
    graph = _graph()
    explaining = {"optimiser.diagnose", "optimiser.sensitivity", "optimiser.entry"}
    explaining |= {m for m in MODULES if m.startswith("optimiser.explore")}
    solving = {"optimiser.solve", "optimiser.stages", "optimiser.tables", "optimiser.model"} | SOLVER_LAYER
    assert not sorted(f"{s} -> {t}" for s in solving for t in graph[s] & explaining)


def test_the_library_core_never_imports_the_sample_generator():
    graph = _graph()
    users = sorted(n for n in MODULES if not n.startswith("optimiser.samples") and any(
        t.startswith("optimiser.samples") for t in graph[n]))
    assert not users


def test_reading_knows_no_solver_and_the_model_no_spreadsheet():
    def uses(name: str, library: str) -> bool:
        return any(m == library or m.startswith(library + ".") for m, _, _ in _imports(name))

    assert not uses("optimiser.read", "pulp")
    assert not uses("optimiser.model", "openpyxl")
    assert not any(uses(n, "openpyxl") for n in SOLVER_LAYER | {"optimiser.stages", "optimiser.solve"})


def test_every_module_opens_with_a_docstring():
    missing = [
        name for name, path in MODULES.items() if not ast.get_docstring(ast.parse(path.read_text("utf-8")))
    ]
    assert not missing
