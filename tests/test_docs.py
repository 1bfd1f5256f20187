"""The docs site checks itself: every page is in the nav, every example runs, no figure is pasted.

The examples on the pages themselves run through pytest's ``--doctest-glob=*.md`` over
``docs/`` (pyproject.toml); the README's examples run here.
"""

from __future__ import annotations

import doctest
import importlib
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


class _Loader(yaml.SafeLoader):
    """mkdocs.yml may hold ``!!python/name:`` tags; this test only needs the structure."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _config() -> dict:
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)


def _nav_files(nav) -> list[str]:
    out: list[str] = []
    for entry in nav:
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, dict):
            for value in entry.values():
                out.extend(_nav_files(value) if isinstance(value, list) else [value])
    return out


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _fences(text: str):
    """Yield (info string, body, first line number) of each fenced code block."""
    for match in re.finditer(r"^```([^\n]*)\n(.*?)^```[ \t]*$", text, re.M | re.S):
        yield match.group(1).strip(), match.group(2), text.count("\n", 0, match.start()) + 1


def test_nav_lists_every_page_and_only_existing_pages():
    nav = [f for f in _nav_files(_config()["nav"]) if not f.startswith(("http://", "https://"))]
    pages = {p.relative_to(DOCS).as_posix() for p in _pages()}
    assert len(nav) == len(set(nav)), "a page is listed twice in the nav"
    assert sorted(set(nav) - pages) == [], "nav entries without a file"
    assert sorted(pages - set(nav)) == [], "pages missing from the nav of mkdocs.yml"


def test_pytest_collects_the_pages_examples():
    # The pages' examples are tests only because pytest looks for doctests in docs/*.md.
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "docs" in options["testpaths"]
    assert "--doctest-glob=*.md" in options["addopts"]
    with_examples = [p for p in _pages() if ">>> " in p.read_text(encoding="utf-8")]
    assert len(with_examples) >= 6, "most pages should teach by running examples"


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_examples_are_pycon_blocks_that_end_cleanly(page):
    # A ">>>" outside a pycon fence would render badly; a fence closing right after the
    # expected output would make doctest expect the closing "```" as output.
    text = page.read_text(encoding="utf-8")
    in_fences = 0
    for info, body, line in _fences(text):
        if ">>> " in body:
            in_fences += body.count("\n>>> ") + body.startswith(">>> ")
            assert info == "pycon", f"{page.name}:{line}: examples go in ```pycon fences"
            assert body.endswith("\n\n"), f"{page.name}:{line}: leave a blank line before ```"
    total = len(re.findall(r"^>>> ", text, re.M))
    assert in_fences == total, f"{page.name}: an example outside a ```pycon fence"


def test_every_api_page_renders_an_importable_module_and_every_module_has_one():
    documented = set()
    for page in (DOCS / "api").glob("*.md"):
        for name in re.findall(r"^::: *([\w.]+)", page.read_text(encoding="utf-8"), re.M):
            importlib.import_module(name)  # a typo would only show up in `make docs`
            documented.add(name)
    # every public module of every public subpackage (the command line's modules document
    # themselves in --help); a subpackage with no public module (symbolic) by its own name
    package = ROOT / "suptheory"
    modules = set()
    for path in package.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[1] == "cli" or any(part.startswith("_") for part in parts):
            continue
        modules.add(".".join(parts))
    for init in package.glob("*/__init__.py"):
        sub = init.parent
        if sub.name.startswith("_") or sub.name == "cli":
            continue
        name = f"suptheory.{sub.name}"
        if not any(not p.stem.startswith("_") for p in sub.glob("*.py")) and not any(
            d == name or d.startswith(name + ".") for d in documented
        ):
            modules.add(name)
    missing = sorted(modules - documented)
    assert missing == [], "public modules without an API reference page"


def test_figures_are_generated_by_an_example_script_not_pasted():
    scripts = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "examples").glob("fig_*.py"))
    for page in _pages():
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text(encoding="utf-8")):
            path = (page.parent / target).resolve()
            assert path.exists(), f"{page.name} shows {target}, which does not exist"
            assert path.name in scripts, (
                f"{page.name} shows {target}, but no examples/fig_*.py writes it "
                "(figures are regenerated by `make figures`, never pasted)"
            )


def test_readme_examples_run_and_link_the_pages():
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    for page in ("getting-started", "readout-models", "worked-examples", "formulas"):
        assert f"docs/{page}.md" in text, f"README does not link docs/{page}.md"
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testfile(str(readme), module_relative=False, optionflags=flags)
    assert result.attempted > 0, "the README's worked example should run"
    assert result.failed == 0


def test_readout_models_figure_script_writes_its_png(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fig_readout_models", ROOT / "examples" / "fig_readout_models.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = module.main(["--out", str(tmp_path), "--n", "256", "--m", "4096"])
    assert path == tmp_path / "readout_models.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
