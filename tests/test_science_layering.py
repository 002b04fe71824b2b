"""paramlab.lab.science stays pure: its modules import numpy, scipy, scikit-learn, the
standard library and paramlab.errors, never the lab's store, CLI, report or experiments."""

import ast
import sys
from pathlib import Path

import paramlab.lab.science as science

ALLOWED_THIRD_PARTY = {"numpy", "scipy", "sklearn"}
ALLOWED_PARAMLAB = {"paramlab.errors", "paramlab.lab.science"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_science_imports_only_what_its_layer_allows() -> None:
    modules = sorted(Path(science.__file__).parent.glob("*.py"))
    assert len(modules) >= 5
    for path in modules:
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "paramlab":
                assert any(name == a or name.startswith(a + ".") for a in ALLOWED_PARAMLAB), (
                    f"{path.name} imports {name}")
            else:
                assert top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names, (
                    f"{path.name} imports {name}")
