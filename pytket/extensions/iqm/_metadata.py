__extension_version__ = "0.19.0.dev0"
__extension_name__ = "pytket-iqm"
__version__ = __extension_version__

# The iqm-client versions each API line runs on (and CI tests). setup.py builds the package's
# iqm-client requirement from these two; the backend checks the installed version against them.
REST_V1_IQM_CLIENT = ">=22.3,<23"
SERVER_API_IQM_CLIENT = ">=36,<37"
