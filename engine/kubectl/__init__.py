"""kubectl: the command-line client, its output formats, and ``apply``."""
