"""The folders are the layers: every import is read with ``ast`` and none may point up a layer.

A module may import from its own layer and from the layers above it in ``LAYERS``; the theory
layer never imports numba (a calculator answer must not pay numba's import and compile time).
``from suptheory import name`` is resolved to the module that defines ``name``, so the table of
contents cannot be used to import upwards in disguise.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import suptheory

PACKAGE = Path(suptheory.__file__).resolve().parent

#: (rank, module prefixes); lower ranks sit above (closer to the closed forms)
LAYERS: list[tuple[int, tuple[str, ...]]] = [
    (0, ("suptheory._validate", "suptheory._text", "suptheory._runner")),
    (1, ("suptheory.theory", "suptheory.symbolic")),
    (2, ("suptheory._kernels",)),
    (3, ("suptheory.analysis",)),
    (4, ("suptheory.empirical",)),
    (5, ("suptheory.runs",)),
    (6, ("suptheory.cli", "suptheory.plots", "suptheory.render", "suptheory.testing")),
]
#: the package root is the table of contents and ``python -m suptheory`` the entry point
EXEMPT = {"suptheory", "suptheory.__main__"}
#: modules that must not import these third-party packages at all
FORBIDDEN = {"suptheory.theory": ("numba",)}


def layer_of(module: str) -> int | None:
    """The rank of a suptheory module's layer, or None for a module outside every layer."""
    for rank, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _root_name(name: str) -> str:
    """The module a name imported from the package root comes from."""
    if name in suptheory._LAZY:
        return suptheory._LAZY[name]
    if name == "__version__":
        return "suptheory._validate"  # a constant of the root: no layer below it is loaded
    value = getattr(suptheory, name, None)
    return getattr(value, "__module__", None) or f"suptheory.{name}"


def imports(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every ``(line, imported module)`` in ``source``, function-level imports included."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = module.split(".")
                package = package if is_package else package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            if base == "suptheory":
                found.extend((node.lineno, _root_name(a.name)) for a in node.names)
            else:
                found.extend((node.lineno, f"{base}.{a.name}") for a in node.names)
    return found


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """The imports of ``module`` that point up a layer or import a forbidden package."""
    own = layer_of(module)
    bad = []
    for line, target in imports(source, module, is_package):
        top = target.split(".")[0]
        for prefix, banned in FORBIDDEN.items():
            if (module == prefix or module.startswith(prefix + ".")) and top in banned:
                bad.append(f"{module}:{line} imports {target} (never in {prefix})")
        if own is None or top != "suptheory":
            continue
        # `from pkg import mod` names a submodule or an attribute: judge the longest prefix
        # that is a real module of the package
        rank = layer_of(target)
        if rank is None:
            rank = layer_of(target.rsplit(".", 1)[0])
        if rank is not None and rank > own:
            bad.append(f"{module}:{line} imports {target} from a lower layer")
    return bad


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_is_in_a_layer():
    outside = [
        module_name(p)
        for p in _modules()
        if module_name(p) not in EXEMPT and layer_of(module_name(p)) is None
    ]
    assert outside == [], "modules in no layer: add them to LAYERS (and DESIGN's layer list)"


def test_no_import_points_up_a_layer():
    bad = []
    for path in _modules():
        name = module_name(path)
        if name in EXEMPT:
            continue
        bad += violations(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
    assert bad == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("suptheory.theory.readout", "def f():\n    from suptheory.empirical import simulate\n"),
        ("suptheory.theory.readout", "from suptheory import simulate_interference\n"),
        ("suptheory.theory.bounds", "import numba\n"),
        ("suptheory.analysis.coherence", "from ..runs.store import ResultStore\n"),
        ("suptheory.empirical.toy_models", "import suptheory.plots.toy\n"),
        ("suptheory._validate", "from suptheory.theory import bounds\n"),
    ],
)
def test_the_rule_catches_an_upward_import(module, source):
    assert violations(source, module)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("suptheory.runs.check", "from suptheory.empirical.simulate import simulate_levels\n"),
        ("suptheory.analysis.coherence", "from . import metrics\nfrom .._kernels import jit\n"),
        ("suptheory.theory.readout", "from suptheory import welch_bound\nimport scipy.special\n"),
        ("suptheory.cli.calc", "from suptheory import check, calculate\n"),
    ],
)
def test_the_rule_allows_downward_and_sideways_imports(module, source):
    assert violations(source, module) == []
