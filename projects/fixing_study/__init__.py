"""The token-fixing study: ``python -m projects.fixing_study`` (README.md)."""
