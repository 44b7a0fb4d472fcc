"""Former path of :mod:`bigfix_mm.models.editors.bigfix.sampler.presets` (the names
``tools/fixing_study`` imports); remove once it imports the new path."""
from bigfix_mm.models.editors.bigfix.sampler.presets import (FIXING_TWINS, SAMPLER_PRESETS,
                                                             sampler_config)

__all__ = ['FIXING_TWINS', 'SAMPLER_PRESETS', 'sampler_config']
