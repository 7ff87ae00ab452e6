"""Sphinx configuration: MyST guides, an API reference from the docstrings, the tour's figures drawn at build time.

Build with warnings as errors (tests/test_docs.py does):

    python -m sphinx -W -b html docs docs/_build/html
"""

import functools
import os
import pathlib
import subprocess
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the checkout's package, whether or not it is installed
sys.path.insert(0, str(DOCS / "_ext"))

project = "jax_weightinit"
author = "jax_weightinit"
copyright = "2026, jax_weightinit"  # noqa: A001 - Sphinx's name
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "public_names"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated/**/*.md", "_ext"]
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]
html_theme = "furo"
html_title = "jax_weightinit"
html_static_path = ["_static"]
html_css_files = ["output.css"]
# A fence with no language is printed output (a plan, a benchmark line): shown as text, not highlighted as Python.
highlight_language = "none"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Broken cross-references fail the build; names of other packages (JAX, NumPy, the typing module) resolve to no
# page here, since the build reaches no other site.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(jax|jaxlib|numpy|np|jnp|ml_dtypes|typing|collections|types|chex|flax|nnx|equinox|eqx|haiku|hk)\b.*"),
    (r"py:.*", r"(Array|ArrayLike|DTypeLike|Shape|Sharding|Axes|Mode|Family|Pattern|Rules|RulesArg|StackedArg)"),
    (r"py:.*", r"(Callable|Sequence|Mapping|Any|Literal|TypeAlias|TypeGuard|Iterator|ModuleType|NoneType)"),
    (r"py:.*", r"(int|float|str|bool|complex|tuple|list|dict|object|type|None|Ellipsis)"),
    (r"py:.*", r"jax_weightinit\._src\..*"),
]


def _tour_figures() -> None:
    """The tour's four figures, drawn by the library itself into docs/_generated/tour (kept between builds and
    redrawn when the library's source is newer)."""
    import jax_weightinit

    out = DOCS / "_generated" / "tour"
    figures = list(out.glob("*.png"))
    source = max(p.stat().st_mtime for p in pathlib.Path(jax_weightinit.__file__).parent.rglob("*.py"))
    if len(figures) == 4 and min(p.stat().st_mtime for p in figures) > source:
        return
    env = {**os.environ, "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "jax_weightinit", "tour", "--out", str(out)]
    subprocess.run(command, check=True, cwd=DOCS, env=env, stdout=subprocess.DEVNULL)


_tour_figures()

# The docstrings are written for `help()` and editors, in Markdown's habits: `code` in single backticks, and `*`
# or `|` as plain characters ("(out, in, *kernel)", "|variance - 1|"). Single backticks are code here, and the
# other two are escaped outside code and doctest blocks, so reStructuredText reads them as written.
default_role = "code"


def _plain_text(app, what, name, obj, options, lines) -> None:
    in_doctest = False
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(">>>"):
            in_doctest = True
        elif not stripped:
            in_doctest = False
        if in_doctest:
            continue
        bullet = stripped.startswith("* ")  # a list item's marker stays one
        indent = len(line) - len(stripped)
        parts = (line[indent + 2 :] if bullet else line).split("`")
        for j in range(0, len(parts), 2):
            text = parts[j]
            for char in "*|":
                text = text.replace("\\" + char, "\0").replace(char, "\\" + char).replace("\0", "\\" + char)
            if j and (text[:1].isalnum() or text[:1] in ("'", "_")):  # `nnx.Param`s: code, then a plain "s"
                text = "\\ " + text
            parts[j] = text
        lines[i] = (line[: indent + 2] if bullet else "") + "`".join(parts)


@functools.cache
def _type_alias_names() -> dict[str, str]:
    """JAX's `ArrayLike` and `DTypeLike` as autodoc spells out their unions, each mapped to the alias's name."""
    from jax.typing import ArrayLike, DTypeLike
    from sphinx.util.typing import stringify_annotation

    aliases = ((ArrayLike, "ArrayLike"), (DTypeLike, "DTypeLike"))
    return {stringify_annotation(alias, "smart"): name for alias, name in aliases}


def _readable_signature(app, what, name, obj, options, signature, return_annotation):
    """Signatures as the reader writes the call: JAX's type aliases by name, not as the unions they stand for
    (which print `bool` twice), and no sentinel default nor the catch-all that only turns `torch.nn.init`'s
    keyword names into a clear error (`constant(val=...)`)."""
    if signature is None:
        return None
    for union, alias in _type_alias_names().items():
        signature = signature.replace(union, alias)
    signature = signature.replace(" = <object object>", "").replace(", **torch_style: object", "")
    return signature, return_annotation


def setup(app):
    app.connect("autodoc-process-docstring", _plain_text, priority=600)
    app.connect("autodoc-process-signature", _readable_signature)
