__extension_version__ = "0.19.0.dev0"
__extension_name__ = "pytket-iqm"
__version__ = __extension_version__
