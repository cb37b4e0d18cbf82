"""Routes of neither API line: root pages, the emulated auth server and ``/_faults``."""
