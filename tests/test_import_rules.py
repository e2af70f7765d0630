"""The package's import rules (docs/architecture.md), read from the source of every module.

- `slowfast_edu.models` imports nothing from data, training, explanations or apps; `data` imports
  no model, training or app code.
- No module imports another package's private module (`_name.py`) across packages.
- Nothing imports a CLI module (`cli.py`, `*_cli.py`, `notebooks/commands.py`) outside the CLI:
  neither the library nor the notebooks.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "slowfast_edu"
# package -> the packages it must not import
FORBIDDEN = {
    "slowfast_edu.models": ("slowfast_edu.data", "slowfast_edu.train", "slowfast_edu.explain",
                            "slowfast_edu.app", "slowfast_edu.notebooks",
                            "slowfast_edu.exercises"),
    "slowfast_edu.data": ("slowfast_edu.models", "slowfast_edu.train", "slowfast_edu.explain",
                          "slowfast_edu.app", "slowfast_edu.notebooks"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_cli(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "cli" or last.endswith("_cli") or module == "slowfast_edu.notebooks.commands"


def imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module `tree` imports (absolute names; `from a import b` gives a and a.b), also
    inside functions (the CLI imports lazily)."""
    found: set[str] = set()
    base = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                stem = base[:len(base) - node.level + 1]
                target = ".".join(stem + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def library_modules() -> dict[str, set[str]]:
    """module name -> the slowfast_edu modules it imports."""
    result = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        result[name] = {m for m in imports(tree, name, path.name == "__init__.py")
                        if m.startswith("slowfast_edu")}
    return result


MODULES = library_modules()


def test_the_reader_sees_the_package():
    # a sanity check of the reader itself: known imports are found, relative ones resolved
    assert len(MODULES) > 60
    assert "slowfast_edu.models.ClipGeometry" in MODULES["slowfast_edu.views"]
    assert "slowfast_edu.predict" in MODULES["slowfast_edu.predict_cli"]
    assert is_cli("slowfast_edu.cli") and is_cli("slowfast_edu.train.cli")
    assert not is_cli("slowfast_edu.views")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_import_nothing_from_above(package):
    wrong = {module: sorted(m for m in imported if m.startswith(FORBIDDEN[package]))
             for module, imported in MODULES.items()
             if module == package or module.startswith(package + ".")}
    assert {m: w for m, w in wrong.items() if w} == {}


def test_no_private_module_is_imported_across_packages():
    wrong = []
    for module, imported in MODULES.items():
        for target in imported:
            parts = target.split(".")
            private = [i for i, p in enumerate(parts) if p.startswith("_") and p != "__init__"]
            if not private or target not in MODULES:
                continue  # a private *name* from a public module is the module's own business
            owner = ".".join(parts[:private[0]])  # the package that holds the private module
            if not (module == owner or module.startswith(owner + ".")):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_nothing_imports_a_cli_module_outside_the_cli():
    wrong = [f"{module} imports {target}" for module, imported in MODULES.items()
             if not is_cli(module) for target in imported if is_cli(target)]
    assert wrong == []


@pytest.mark.parametrize("notebook", sorted((REPO / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.stem)
def test_the_notebooks_import_no_cli_module(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    found = imports(ast.parse("\n".join(lines)), "__main__", is_package=False)
    assert sorted(m for m in found if m.startswith("slowfast_edu") and is_cli(m)) == []
