"""Studies built on bigfix_mm, each run as ``python -m projects.<name>`` from the repository
root (README.md)."""
