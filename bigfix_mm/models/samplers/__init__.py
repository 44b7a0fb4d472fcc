"""Former home of the sampler, now :mod:`bigfix_mm.models.editors.bigfix.sampler`; only
:mod:`.presets` remains, for ``tools/fixing_study`` until it imports the new path."""
