"""Packaging for pytket-iqm: the pytket backend for IQM quantum computers and its local emulator.

pytket-iqm runs on one of two iqm-client lines (see docs/getting_started.rst, "Which IQM API"):

* iqm-client 36.x, the IQM Server API of IQM Resonance (Python 3.11+): what
  ``pip install pytket-iqm`` installs on Python 3.11 and later;
* iqm-client 22.x, IQM's REST API of on-premises servers (Python 3.10–3.12): what it installs
  on Python 3.10, and on 3.11–3.12 with ``pip install pytket-iqm "iqm-client>=22.3,<23"``.

One wheel serves both: its iqm-client requirement admits exactly the two supported ranges and
nothing between them, so pip picks the newest supported line the Python version allows (36.x
needs Python 3.11+, 22.x needs Python < 3.13), and a pin next to pytket-iqm picks the other.
The build needs no switch (``python -m build`` gives the sdist and the wheel).
"""

import re
from pathlib import Path

from setuptools import find_namespace_packages, setup

metadata: dict[str, str] = {}
exec(Path("pytket/extensions/iqm/_metadata.py").read_text(), metadata)  # noqa: S102


def requirement_for_ranges(package: str, ranges: list[str]) -> str:
    """One requirement admitting exactly ``ranges`` (each ``>=LOW,<MAJOR``, in order).

    A requirement cannot list alternatives, so the majors between two ranges are excluded one by
    one (``!=23.*``): pip can then never install an untested version in a gap, and still picks
    by Python version (the newest range whose releases accept the interpreter).
    """
    bounds = [re.fullmatch(r">=([\d.]+),<(\d+)", spec) for spec in ranges]
    if not all(bounds):
        raise ValueError(f"each range must read >=LOW,<MAJOR: {ranges}")
    lows = [match[1] for match in bounds if match]
    uppers = [int(match[2]) for match in bounds if match]
    specifiers = [f">={lows[0]}"]
    for upper, next_low in zip(uppers[:-1], lows[1:], strict=True):
        if not re.fullmatch(r"\d+(\.0)*", next_low) or int(next_low.split(".")[0]) < upper:
            raise ValueError(f"ranges must be whole majors apart, in order: {ranges}")
        specifiers += [f"!={major}.*" for major in range(upper, int(next_low.split(".")[0]))]
    specifiers.append(f"<{uppers[-1]}")
    return f"{package}{','.join(specifiers)}"


# >=22.3,!=23.*,...,!=35.*,<37: the REST v1 line (22.x) and the IQM Server API line (36.x).
IQM_CLIENT_REQUIREMENT = requirement_for_ranges(
    "iqm-client", [metadata["REST_V1_IQM_CLIENT"], metadata["SERVER_API_IQM_CLIENT"]]
)

setup(
    name="pytket-iqm",
    version=metadata["__version__"],
    author="pytket-iqm developers",
    # 3.10 gets the REST v1 line (iqm-client 22.x), 3.11+ the IQM Server API line (36.x, which
    # declares <3.15); pytket ships wheels for 3.10-3.14.
    python_requires=">=3.10",
    description="pytket backend for IQM quantum computers, with a local IQM server emulator",
    long_description=Path("README.md").read_text(),
    long_description_content_type="text/markdown",
    license_expression="Apache-2.0",
    license_files=["LICENSE"],
    packages=find_namespace_packages(include=["pytket.*"]),
    include_package_data=True,
    package_data={
        "pytket.extensions.iqm": ["py.typed"],
        "pytket.extensions.iqm.emulator.devices": ["data/*.json"],
    },
    install_requires=[
        "pytket>=2.0,<3",
        IQM_CLIENT_REQUIREMENT,
        "numpy>=1.25.2,<3",
        "packaging",
        # The emulator is the embedded default, so its server stack is a core dependency.
        "fastapi>=0.110,<1",
        "uvicorn>=0.29,<1",
        # The emulator's stabilizer method (Clifford circuits of any size); wheels for 3.10-3.13.
        "stim>=1.14,<2",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "pytest-timeout>=2.3",
            # .ci/run measures the suite's coverage (report --format=total: 7.0+).
            "coverage>=7.0",
            "mypy>=1.10",
            "ruff>=0.5",
            "types-requests",
            "httpx>=0.27",
            "scipy",
            "schemathesis>=4.0",
            # So the progress-bar and plotting tests run (and mypy sees matplotlib's types).
            "tqdm>=4.60",
            "matplotlib>=3.7",
            # So the scale-out tests (a local Dask cluster) run.
            "dask>=2024.1",
            "distributed>=2024.1",
        ],
        # get_compiled_circuits(executor=...) and the emulator's --dask-scheduler.
        "cluster": ["dask>=2024.1", "distributed>=2024.1"],
        # get_results(..., progress=True)
        "progress": ["tqdm>=4.60"],
        # pytket.extensions.iqm.plotting
        "plot": ["matplotlib>=3.7"],
        # Side-by-side baselines for the benchmarks (qiskit-aer for simulation).
        "bench": ["qiskit>=1.2", "qiskit-aer>=0.15"],
        # The docs build draws its figures with the plotting helpers.
        "docs": ["sphinx>=7,<9", "furo", "myst-parser>=2", "matplotlib>=3.7"],
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
        "Programming Language :: Python :: 3.13",
        "Topic :: Scientific/Engineering",
    ],
    zip_safe=False,
)
