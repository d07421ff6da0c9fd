"""The shape of chalicelib: imports point down the layers, never up, and the services import
each other without cycles (the order is in docs/architecture.md's words: api, services,
methods, ledger, store, then the modules everything may use)."""
import ast
from pathlib import Path

from tests.support import PROJECT

CHALICELIB = PROJECT / "chalicelib"
# Higher layers first; a module may import its own layer or any lower one.
LAYERS = ["api", "dev", "services", "methods", "ledger", "store", "base"]
MAX_LINES = 400


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] in LAYERS else "base"


def module_name(path: Path) -> str:
    relative = path.relative_to(PROJECT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """chalicelib modules this file imports, at its top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chalicelib"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if (CHALICELIB.parent / (candidate.replace(".", "/") + ".py")).exists()
                          or (CHALICELIB.parent / candidate.replace(".", "/")).is_dir() else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("chalicelib"))
    return found


def sources() -> dict[str, Path]:
    return {module_name(p): p for p in CHALICELIB.rglob("*.py")}


def test_imports_point_down_the_layers():
    upward = []
    for module, path in sources().items():
        mine = LAYERS.index(layer_of(module))
        for imported in imports_of(path):
            if LAYERS.index(layer_of(imported)) < mine:
                upward.append(f"{module} imports {imported}")
    assert upward == []


def test_services_import_each_other_without_cycles():
    graph = {m: {i for i in imports_of(p) if layer_of(i) == "services" and i != m}
             for m, p in sources().items() if layer_of(m) == "services"}
    done, path = set(), []

    def visit(module: str) -> None:
        assert module not in path, " -> ".join([*path[path.index(module):], module])
        if module in done:
            return
        path.append(module)
        for imported in graph.get(module, ()):
            visit(imported)
        path.pop()
        done.add(module)

    for module in graph:
        visit(module)


def test_no_module_outgrows_one_reading():
    long = {m: n for m, p in sources().items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_login_and_step_up_know_no_method():
    for name in ("login", "step_up"):
        imported = imports_of(CHALICELIB / "services" / f"{name}.py")
        assert not any(layer_of(i) == "methods" for i in imported), (name, imported)
    for path in CHALICELIB.rglob("*.py"):
        if layer_of(module_name(path)) != "methods":
            text = path.read_text()
            assert '"credential" in' not in text and '"challenge_id" in' not in text, path
