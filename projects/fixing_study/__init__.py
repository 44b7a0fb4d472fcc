"""The token-fixing study (tools/fixing_study.py): its modules."""
