"""The shape of chalicelib: imports point down the layers, never up, and the services import
each other without cycles (the order is in docs/architecture.md's words: api, services,
methods, ledger, store, then the modules everything may use). The deployed code (app.py and
chalicelib/, all Chalice zips) imports none of the project's other folders, which are never in
the zip; the one exception is the local stage's /_dev/ routes, below."""
import ast
from pathlib import Path

from tests.support import PROJECT

CHALICELIB = PROJECT / "chalicelib"
# Higher layers first; a module may import its own layer or any lower one.
LAYERS = ["api", "services", "methods", "ledger", "store", "base"]
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


# The project's folders Chalice does not package (tests/test_chalice_deploy.py checks the zip).
NOT_DEPLOYED = {path.name for path in PROJECT.iterdir() if path.is_dir()} - {"chalicelib", "vendor"}
# The only imports of them allowed: the /_dev/ handlers' (module, function) read the local
# stage's mailbox and SNS log from localdev, lazily and only after the stage check, so on any
# other stage (and in the zip, which lacks localdev) the import never runs and they answer 404.
DEV_HANDLERS = {("chalicelib.api.dev", "mailbox"): "localdev", ("chalicelib.api.dev", "pushes"): "localdev"}
STAGE_CHECK = "if not get_settings().dev_mailbox_enabled:\n    raise not_found('page')"


def _imported_top(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return {node.module.split(".")[0]}
    return set()


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


def test_deployed_code_imports_no_undeployed_folder_but_the_dev_handlers_lazily():
    found = {}
    for module, path in {"app": PROJECT / "app.py", **sources()}.items():
        tree = ast.parse(path.read_text())
        for node in tree.body:   # at import time: never, anywhere
            for name in _imported_top(node) & NOT_DEPLOYED:
                found[(module, "<module>")] = name
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef):
                for position, statement in enumerate(function.body):
                    for node in ast.walk(statement):
                        for name in _imported_top(node) & NOT_DEPLOYED:
                            found[(module, function.name)] = name
                            # Lazily, after the stage check: the check is the statement before.
                            assert position > 0 and ast.unparse(function.body[position - 1]) == STAGE_CHECK, (
                                module, function.name)
    assert found == DEV_HANDLERS


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
