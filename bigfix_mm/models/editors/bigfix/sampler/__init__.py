"""BIGFix's sampler: the loop and its per-step decision (:mod:`.token_sampler`), the
registered samplers, presets and defaults (:mod:`.presets`)."""
from bigfix_mm.models.editors.bigfix.sampler.presets import (DEFAULT_SAMPLER, DEFAULT_STEPS,
                                                             FIXING_TWINS, SAMPLER_PRESETS,
                                                             HaltonSampler, MaskGITSampler,
                                                             TokenFixingSampler, build_sampler,
                                                             no_fixing_twin, sampler_config)
from bigfix_mm.models.editors.bigfix.sampler.token_sampler import SamplingPlan, TokenSampler

__all__ = ['TokenSampler', 'SamplingPlan', 'MaskGITSampler', 'HaltonSampler',
           'TokenFixingSampler', 'SAMPLER_PRESETS', 'FIXING_TWINS', 'DEFAULT_SAMPLER',
           'DEFAULT_STEPS', 'build_sampler', 'no_fixing_twin', 'sampler_config']
