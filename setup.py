"""Packaging for pytket-iqm: the pytket backend for IQM quantum computers and its local emulator."""

from pathlib import Path

from setuptools import find_namespace_packages, setup

metadata: dict[str, str] = {}
exec(Path("pytket/extensions/iqm/_metadata.py").read_text(), metadata)  # noqa: S102

setup(
    name="pytket-iqm",
    version=metadata["__version__"],
    author="pytket-iqm developers",
    python_requires=">=3.10,<3.13",
    description="pytket backend for IQM quantum computers, with a local IQM server emulator",
    long_description=Path("README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_namespace_packages(include=["pytket.*"]),
    include_package_data=True,
    package_data={
        "pytket.extensions.iqm": ["py.typed"],
        "pytket.extensions.iqm.emulator": ["data/*.json"],
    },
    install_requires=[
        "pytket>=2.0,<3",
        "iqm-client>=22.3,<23",
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
        ],
        # Side-by-side baselines for the benchmarks (qiskit-aer for simulation).
        "bench": ["qiskit>=1.2", "qiskit-aer>=0.15"],
        "docs": ["sphinx>=7,<9", "furo", "myst-parser>=2"],
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
