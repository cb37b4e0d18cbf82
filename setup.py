"""Packaging for pytket-iqm: the pytket backend for IQM quantum computers and its local emulator.

pytket-iqm runs on one of two iqm-client lines (see docs/getting_started.rst, "Which IQM API"):

* iqm-client 22.x, IQM's REST API of on-premises servers and of the emulator's device URLs:
  the default install, ``pip install pytket-iqm``;
* iqm-client 36.x, the IQM Server API of IQM Resonance (Python 3.11+): build with
  ``PYTKET_IQM_CLIENT=iqm-server``, e.g. ``PYTKET_IQM_CLIENT=iqm-server pip install .``.

An extra cannot replace a base requirement (pip resolves both and finds them in conflict), so
the line is chosen when the package is built; the ``iqm-server`` extra names the same
requirement, so ``pip install ".[iqm-server]"`` on a default build fails loudly instead of
silently installing the other line.
"""

import os
from pathlib import Path

from setuptools import find_namespace_packages, setup

metadata: dict[str, str] = {}
exec(Path("pytket/extensions/iqm/_metadata.py").read_text(), metadata)  # noqa: S102

IQM_CLIENT_LINES = {
    # line: (iqm-client requirement, Python versions)
    "22": ("iqm-client>=22.3,<23", ">=3.10,<3.13"),
    "iqm-server": ("iqm-client>=36,<37", ">=3.11,<3.13"),
}
line = os.environ.get("PYTKET_IQM_CLIENT", "22")
if line not in IQM_CLIENT_LINES:
    raise SystemExit(
        f"PYTKET_IQM_CLIENT={line!r} is not an iqm-client line pytket-iqm supports; use one of "
        f"{', '.join(IQM_CLIENT_LINES)}."
    )
iqm_client_requirement, python_requires = IQM_CLIENT_LINES[line]

setup(
    name="pytket-iqm",
    version=metadata["__version__"],
    author="pytket-iqm developers",
    python_requires=python_requires,
    description="pytket backend for IQM quantum computers, with a local IQM server emulator",
    long_description=Path("README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_namespace_packages(include=["pytket.*"]),
    include_package_data=True,
    package_data={
        "pytket.extensions.iqm": ["py.typed"],
        "pytket.extensions.iqm.emulator.devices": ["data/*.json"],
    },
    install_requires=[
        "pytket>=2.0,<3",
        iqm_client_requirement,
        "numpy>=1.25.2,<3",
        "packaging",
        # The emulator is the embedded default, so its server stack is a core dependency.
        "fastapi>=0.110,<1",
        "uvicorn>=0.29,<1",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "pytest-timeout>=2.3",
            "mypy>=1.10",
            "ruff>=0.5",
            "types-requests",
            "httpx>=0.27",
            "scipy",
            "schemathesis>=4.0",
            # So the progress-bar and plotting tests run (and mypy sees matplotlib's types).
            "tqdm>=4.60",
            "matplotlib>=3.7",
        ],
        # get_results(..., progress=True)
        "progress": ["tqdm>=4.60"],
        # pytket.extensions.iqm.plotting
        "plot": ["matplotlib>=3.7"],
        # Side-by-side baselines for the benchmarks (qiskit-aer for simulation).
        "bench": ["qiskit>=1.2", "qiskit-aer>=0.15"],
        # The docs build draws its figures with the plotting helpers.
        "docs": ["sphinx>=7,<9", "furo", "myst-parser>=2", "matplotlib>=3.7"],
        # The IQM Server API line; see the module docstring for why it is chosen at build time.
        "iqm-server": [IQM_CLIENT_LINES["iqm-server"][0]],
    },
    entry_points={
        "console_scripts": [
            "pytket-iqm-emulator = pytket.extensions.iqm.emulator.cli:main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Topic :: Scientific/Engineering",
    ],
    zip_safe=False,
)
