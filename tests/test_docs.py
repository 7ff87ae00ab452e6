"""The documentation site: built with warnings as errors, every public name in its API reference with a docstring,
and its pages rendered in headless Chromium as a person sees them, with no console errors.

The guides' code runs in tests/test_readme.py, the docstrings' examples as doctests.
"""

import html
import importlib
import inspect
import json
import os
import pathlib
import posixpath
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parent.parent
DOCS = ROOT / "docs"
MODULES = ["jax_weightinit", "jax_weightinit.presets", "jax_weightinit.pytorch", "jax_weightinit.flax"]
MODULES += ["jax_weightinit.equinox", "jax_weightinit.testing"]
# Pages rendered to PNG: the index and a guide with tables, code and the plan's printed output.
RENDERED = ["index.html", "guides/whole-models.html"]

pytestmark = pytest.mark.slow


def build(source: pathlib.Path, out: pathlib.Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(source), str(out)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "MPLBACKEND": "Agg"})


def copy_of_docs(tmp_path: pathlib.Path) -> pathlib.Path:
    """The docs, and the examples and benchmark results they include, in a folder of the test's own, so that
    parallel builds never write into one tree."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "benchmarks", tmp_path / "benchmarks", ignore=shutil.ignore_patterns("*.py", "*.json"))
    return pathlib.Path(shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("_build")))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("site")
    result = build(copy_of_docs(out.parent / f"{out.name}-source"), out)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def undocumented(inventory: set[str], modules: dict) -> list[str]:
    """The public names of `modules` (by `__all__`) that the reference lacks or that have no documentation of their
    own: a docstring for a function, class or module, a `#:` doc comment where a constant or alias is defined."""
    sys.path.insert(0, str(DOCS / "_ext"))
    from public_names import doc_comment

    missing = []
    for module_name, module in modules.items():
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isroutine(value) or inspect.isclass(value) or inspect.ismodule(value):
                documented = bool((value.__doc__ or "").strip())
            else:
                documented = bool(doc_comment(module_name, name))
            if f"{module_name}.{name}" not in inventory or not documented:
                missing.append(f"{module_name}.{name}")
    return missing


def inventory_of(site: pathlib.Path) -> set[str]:
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as f:
        inventory = InventoryFile.load(f, "", posixpath.join)
    data = inventory.data if hasattr(inventory, "data") else inventory
    return {name for items in data.values() for name in items}


def test_every_public_name_is_in_the_reference_with_a_docstring(site):
    modules = {name: importlib.import_module(name) for name in MODULES}
    assert undocumented(inventory_of(site), modules) == []


def test_twin_a_public_name_missing_from_the_reference_is_caught(site):
    """Twin: a module whose `__all__` names something the reference does not hold."""

    def he_normal():  # in the reference, but this one has no docstring
        pass

    def not_in_the_reference():
        """Documented, but not in the reference."""

    class Module:
        __all__ = ["he_normal", "not_in_the_reference", "zeros"]

    Module.he_normal, Module.not_in_the_reference, Module.zeros = he_normal, not_in_the_reference, 0.0

    missing = undocumented(inventory_of(site), {"jax_weightinit": Module})
    assert missing == ["jax_weightinit.he_normal", "jax_weightinit.not_in_the_reference"]


def test_twin_a_broken_cross_reference_fails_the_build(tmp_path):
    """Twin: the same site with one link to a page that does not exist does not build."""
    source = copy_of_docs(tmp_path)
    page = source / "guides" / "fan-rules.md"
    page.write_text(page.read_text() + "\nSee [the missing page](missing.md).\n")
    result = build(source, tmp_path / "out")
    assert result.returncode != 0
    problems = [line for line in result.stderr.splitlines() if re.search(r"WARNING|ERROR|CRITICAL", line)]
    assert len(problems) == 1 and "missing.md" in problems[0], problems


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package before the suite.")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it and runs this.")
    return found


def render(page: pathlib.Path, png: pathlib.Path) -> list[str]:
    """Renders `page` to `png` in headless Chromium; returns the messages the page wrote to its console."""
    command = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += ["--window-size=1280,1600", "--enable-logging=stderr", "--v=0", f"--screenshot={png}", page.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.parametrize("page", RENDERED)
def test_pages_render_without_console_errors(site, page, tmp_path):
    png = tmp_path / "page.png"
    assert render(site / page, png) == []
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a page with text and images, not a blank one


def test_twin_a_page_with_a_script_error_is_caught(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>text</p><script>undefinedFunction();</script></body></html>")
    console = render(page, tmp_path / "broken.png")
    assert any("undefinedFunction" in line for line in console)


# Measures, once the page has laid out, each code block and table that is wider than its box (a reader would have
# to scroll it sideways to see the rest): its tag, how much wider, and its longest line.
_CUT_OFF_PROBE = """<script>
window.addEventListener('load', () => {
  const cut = [...document.querySelectorAll('article pre, article div.table-wrapper')]
    .filter(e => e.scrollWidth > e.clientWidth)
    .map(e => [e.tagName, e.scrollWidth - e.clientWidth,
               e.innerText.split('\\n').reduce((a, b) => (a.length >= b.length ? a : b), '').slice(0, 90)]);
  document.body.setAttribute('data-cut-off', JSON.stringify(cut));
});
</script>"""


def cut_off(page: pathlib.Path, width: int = 1280) -> list:
    """The code blocks and tables of `page` cut off at a `width`-pixel window, as headless Chromium lays it out."""
    probed = page.with_name(f"_probed_{page.name}")
    probed.write_text(page.read_text().replace("</body>", _CUT_OFF_PROBE + "</body>"))
    command = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += [f"--window-size={width},1600", "--dump-dom", probed.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    probed.unlink()
    found = re.search(r'data-cut-off="([^"]*)"', result.stdout)
    assert found, result.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


GUIDES = ["index.html", *(f"guides/{p.stem}.html" for p in sorted((DOCS / "guides").glob("*.md")))]


@pytest.mark.parametrize("page", GUIDES)
def test_no_code_block_or_table_is_cut_off_at_1280_pixels(site, page):
    """The plan's printed tables, the benchmark results and every code block fit a 1280-pixel window."""
    assert cut_off(site / page) == []


def test_twin_a_code_block_wider_than_the_page_is_caught(site):
    page = site / "guides" / "_twin_wide.html"
    wide = '<div class="highlight-python notranslate"><div class="highlight"><pre>x = 1  # ' + "-" * 200
    wide += "</pre></div></div></article>"
    page.write_text((site / "guides" / "fan-rules.html").read_text().replace("</article>", wide, 1))
    try:
        assert [tag for tag, *_ in cut_off(page)] == ["PRE"]
    finally:
        page.unlink()


def empty_sections(text: str) -> list[str]:
    """The headings of `text` (a built page) with nothing under them: a section that closes right after its title."""
    found = re.findall(r'<h([1-6])>(.*?)<a class="headerlink"[^>]*>[^<]*</a></h\1>\s*</section>', text)
    return [re.sub(r"<[^>]+>", "", heading) for _, heading in found]


def test_no_page_has_an_empty_section(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    assert [(p.name, heading) for p in pages for heading in empty_sections(p.read_text())] == []


def test_twin_an_empty_section_is_caught():
    text = '<section id="a"><h2>Whole-model init<a class="headerlink" href="#a" title="Link">¶</a></h2>\n</section>'
    assert empty_sections(text) == ["Whole-model init"]
    assert empty_sections(text.replace("</h2>\n", "</h2><p>the table</p>")) == []
