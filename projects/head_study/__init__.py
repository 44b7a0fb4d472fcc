"""Softmax head vs masked-bit head, with intervals over seeds (README.md)."""
