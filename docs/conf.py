"""Sphinx configuration for pytket-iqm's documentation."""

from __future__ import annotations

from pathlib import Path

from pytket.backends.backendinfo import BackendInfo
from sphinx.application import Sphinx

from pytket.extensions.iqm import __extension_version__
from pytket.extensions.iqm.backends.architecture import DynamicArchitecture, device_from_dqa
from pytket.extensions.iqm.emulator.devices.catalogue import get_device
from pytket.extensions.iqm.emulator.http.rest_v1 import payloads

project = "pytket-iqm"
author = "pytket-iqm developers"
copyright = "2026, pytket-iqm developers"
release = __extension_version__
version = __extension_version__

extensions = [
    "sphinx.ext.autodoc",
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


def _offline_backend_info(device_name: str) -> BackendInfo:
    """The BackendInfo ``IQMBackend`` builds for an emulated device, without a server."""
    device = get_device(device_name)
    calibration = device.default_calibration
    dqa = DynamicArchitecture.from_json(payloads.dynamic_architecture(calibration))
    metrics = payloads.quality_metrics(device, calibration)["metrics"]
    model = device_from_dqa(dqa, device_name=device_name, quality_metrics=metrics)
    return model.backend_info(name="IQMBackend", version=release)


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
    plot_coupling_map(_offline_backend_info("garnet"), ax)
    fig.savefig(GENERATED / "coupling_map_garnet.png", dpi=110, bbox_inches="tight")
    fig, ax = pyplot.subplots(figsize=(5, 3.5))
    plot_counts(BELL_COUNTS, ax, title="Bell circuit, noisy emulated Garnet")
    fig.savefig(GENERATED / "counts_bell.png", dpi=110, bbox_inches="tight")
    pyplot.close("all")


def setup(app: Sphinx) -> None:
    """Sphinx hook: draw the figures before any page is read."""
    app.connect("builder-inited", generate_figures)
