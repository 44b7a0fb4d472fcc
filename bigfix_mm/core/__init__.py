"""The leaf layer: pure functions and small modules that import only the standard library,
torch, numpy, MMEngine and :mod:`bigfix_mm.errors`.

- :mod:`.schedules`: reveal counts, mask-ratio schedules, Halton orders, token grids;
- :mod:`.bits`: the one id <-> bits map;
- :mod:`.tokens`: token-range checks;
- :mod:`.context`: given-context masks (frames or explicit masks);
- :mod:`.injection`: masking and random-token injection of training batches;
- :mod:`.sampling`: guidance, top-k / top-p filtering, Gumbel draws, top-k masks;
- :mod:`.nonfinite`: the guard against non-finite losses and gradients;
- :mod:`.files` / :mod:`.checkpoint`: atomic writes; checkpoint reading, weights
  inside (EMA), prefixes, atomic saving.
"""
