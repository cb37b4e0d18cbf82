"""Sphinx configuration for pytket-iqm's documentation."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

from pytket.extensions.iqm import __extension_version__
from pytket.extensions.iqm.devices import backend_info

project = "pytket-iqm"
author = "pytket-iqm developers"
copyright = "2026, pytket-iqm developers"
release = __extension_version__
version = __extension_version__

extensions = [
    "sphinx.ext.autodoc",
    # Summary tables in api.rst; the entries themselves are autodoc's, on the same page.
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    # Registers testsetup/testcleanup, the hidden setup of pages whose examples
    # tests/docs/test_doc_examples.py runs (the doctest builder itself is not used).
    "sphinx.ext.doctest",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
html_theme = "furo"
html_title = f"pytket-iqm {release}"

autosummary_generate = False  # tables only: no stub pages written into docs/
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Third-party types in signatures are not in our docs; their names are enough.
nitpicky = False
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
suppress_warnings = ["myst.header"]

# -- Figures drawn at build time --------------------------------------------------------------
# The plotting pages show pictures made by pytket-iqm's own plotting helpers, drawn offline
# from the emulator's bundled device data, so they always match the code and the catalogue.

GENERATED = Path(__file__).parent / "_generated"

# Counts of the Bell example in getting_started.rst (noisy emulated Garnet, seed 1).
BELL_COUNTS = {(0, 0): 463, (1, 1): 479, (0, 1): 32, (1, 0): 26}


def generate_figures(app: Sphinx) -> None:
    """Draw the PNGs the pages include into ``docs/_generated``."""
    try:
        import matplotlib  # noqa: PLC0415 - only the docs build needs it

        matplotlib.use("Agg")
        from matplotlib import pyplot  # noqa: PLC0415
    except ImportError as error:
        raise ImportError(
            'The docs draw figures with matplotlib: pip install "pytket-iqm[docs]".'
        ) from error
    from pytket.extensions.iqm.plotting import plot_counts, plot_coupling_map  # noqa: PLC0415

    GENERATED.mkdir(exist_ok=True)
    fig, ax = pyplot.subplots(figsize=(7, 7))
    plot_coupling_map(backend_info("garnet"), ax)
    fig.savefig(GENERATED / "coupling_map_garnet.png", dpi=110, bbox_inches="tight")
    fig, ax = pyplot.subplots(figsize=(5, 3.5))
    plot_counts(BELL_COUNTS, ax, title="Bell circuit, noisy emulated Garnet")
    fig.savefig(GENERATED / "counts_bell.png", dpi=110, bbox_inches="tight")
    pyplot.close("all")


def setup(app: Sphinx) -> None:
    """Sphinx hook: draw the figures before any page is read."""
    app.connect("builder-inited", generate_figures)
