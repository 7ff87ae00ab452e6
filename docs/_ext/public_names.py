"""Sphinx extension: doc comments for the public constants and type aliases.

Functions and classes carry their docstrings. A constant or type alias re-exported from `_src` (`zeros`,
`testing.ALPHA`, `Rules`) has its `#:` doc comment where it is defined, which autodoc, reading the public module's
own source, would not find (nor list it under `automodule`, which documents only data the module itself assigns:
the API pages name these with `autodata`). `doc_comment` finds it, and the reference shows it.
"""

import importlib
import inspect
import re

from sphinx.pycode import ModuleAnalyzer


def defining_module(module_name: str, name: str) -> str | None:
    """The module a public module imports `name` from (`from ._src.testing import ALPHA as ALPHA`), or None."""
    source = inspect.getsource(importlib.import_module(module_name))
    match = re.search(rf"^from \.(\S+) import {re.escape(name)} as {re.escape(name)}$", source, re.M)
    if match is None:
        return None
    package = module_name if module_name.count(".") == 0 else module_name.rsplit(".", 1)[0]
    return f"{package}.{match.group(1)}"


def doc_comment(module_name: str, name: str) -> list[str]:
    """The `#:` doc comment of `name` where `module_name` imports it from; [] where there is none."""
    source = defining_module(module_name, name)
    if source is None:
        return []
    return list(ModuleAnalyzer.for_module(source).find_attr_docs().get(("", name), []))


def _fill_data_docs(app, what, name, obj, options, lines) -> None:
    """A public constant's doc comment, in place of its type's docstring (a float's, a list's)."""
    if what == "data":
        module_name, _, short = name.rpartition(".")
        comment = doc_comment(module_name, short)
        if comment:
            lines[:] = comment


def setup(app):
    app.connect("autodoc-process-docstring", _fill_data_docs, priority=400)
    return {"parallel_read_safe": True}
