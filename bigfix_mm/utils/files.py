"""Former path of :mod:`bigfix_mm.core.files` (the names ``tools/fixing_study`` imports);
remove once it imports the new path."""
from bigfix_mm.core.files import atomic_path, write_text_atomic

__all__ = ['atomic_path', 'write_text_atomic']
