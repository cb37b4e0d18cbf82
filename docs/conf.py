"""Sphinx configuration for pytket-iqm's documentation."""

from __future__ import annotations

from pytket.extensions.iqm import __extension_version__

project = "pytket-iqm"
author = "pytket-iqm developers"
copyright = "2026, pytket-iqm developers"
release = __extension_version__
version = __extension_version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"pytket-iqm {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Third-party types in signatures are not in our docs; their names are enough.
nitpicky = False
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
suppress_warnings = ["myst.header"]
