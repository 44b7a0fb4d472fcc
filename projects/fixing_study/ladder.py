"""Is the metric valid in this token space? The corruption ladder and its rules.

The token round trip of held-out test images is what a perfect token model
reproduces. Corrupting a known share of its tokens gives inputs that are worse
by construction; a metric that can judge samplers in this space must score
them monotonically worse. The ladder also gives the metric's *resolution*: the
smallest corruption whose paired interval against the uncorrupted step excludes
zero at the cell's sample size.

Corruption modes:

- ``uniform``: each chosen position gets a random *other* code of the codebook;
- ``shuffle``: each chosen position gets the token of another position of the
  same image that holds a different code (the injection's ``shuffle`` source,
  restricted to tokens that change something). An image of one code cannot be
  changed this way; :func:`corrupt_tokens` reports the share actually changed.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

LADDER_RATES = (0.0, 0.02, 0.05, 0.10, 0.20, 0.40)
LADDER_MODES = ('uniform', 'shuffle')


def corrupt_tokens(tokens: torch.Tensor, rate: float, mode: str, codebook_size: int,
                   generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Replace exactly ``round(rate * L)`` positions of every image.

    Args:
        tokens: (N, L) int64 ids in [0, K).
        rate: share of positions to replace, in [0, 1].
        mode: ``uniform`` or ``shuffle`` (see the module docstring).
        codebook_size: K.
        generator: CPU RNG for reproducible corruption.

    Returns:
        (N, L) int64 corrupted ids; with ``uniform`` exactly ``round(rate * L)``
        ids differ per image, with ``shuffle`` as many as the image's codes allow.
    """
    if mode not in LADDER_MODES:
        raise ValueError(f'corruption mode={mode!r} is not one of {LADDER_MODES}')
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f'rate={rate} must be in [0, 1]')
    tokens = tokens.long()
    n, length = tokens.shape
    m = int(round(rate * length))
    if m == 0:
        return tokens.clone()
    chosen = torch.rand(n, length, generator=generator).argsort(dim=1)[:, :m]  # (N, m)
    original = tokens.gather(1, chosen)  # (N, m)
    if mode == 'uniform':
        # a uniform draw among the K - 1 other codes: skip over the original id
        draw = torch.randint(0, codebook_size - 1, (n, m), generator=generator)
        new = draw + (draw >= original).long()
    else:
        # source: a random position of the same image holding a different code
        scores = torch.rand(n, m, length, generator=generator)
        differs = tokens[:, None, :] != original[:, :, None]  # (N, m, L)
        source = scores.masked_fill(~differs, -1.0).argmax(dim=2)  # (N, m)
        new = torch.where(differs.any(dim=2), tokens.gather(1, source), original)
    return tokens.scatter(1, chosen, new)


def corrupt_within(tokens: torch.Tensor, rate: float, positions: torch.Tensor,
                   codebook_size: int, generator: Optional[torch.Generator] = None
                   ) -> torch.Tensor:
    """Replace exactly ``round(rate * n_i)`` of the ``n_i`` allowed positions of every image
    by a random *other* code (``uniform``): the ladder of an edit, inside its hole only.

    Args:
        tokens: (N, L) int64 ids in [0, K).
        rate: share of each image's allowed positions to replace, in [0, 1].
        positions: (N, L) bool, the positions that may change (e.g. an edit's hole).
        codebook_size: K.
        generator: CPU RNG for reproducible corruption.

    Returns:
        (N, L) int64 ids, equal to ``tokens`` outside ``positions``.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f'rate={rate} must be in [0, 1]')
    tokens, positions = tokens.long(), positions.bool()
    if positions.shape != tokens.shape:
        raise ValueError(f'positions {tuple(positions.shape)} must match tokens '
                         f'{tuple(tokens.shape)}')
    counts = (rate * positions.sum(1).double()).round().long()  # (N,)
    # rank the allowed positions of each image in a random order; take the first counts[i]
    scores = torch.rand(tokens.shape, generator=generator).masked_fill(~positions, 2.0)
    rank = scores.argsort(1).argsort(1)  # (N, L) rank of every position
    chosen = rank < counts[:, None]
    draw = torch.randint(0, codebook_size - 1, tokens.shape, generator=generator)
    other = draw + (draw >= tokens).long()  # a uniform draw among the K - 1 other codes
    return torch.where(chosen, other, tokens)


def changed_share(clean: torch.Tensor, corrupted: torch.Tensor) -> float:
    """Share of positions whose id differs: the corruption rate actually applied."""
    return float((clean != corrupted).double().mean())


def is_monotonic(values: Sequence[float]) -> bool:
    """True when every step of the ladder scores strictly worse (higher) than the one before."""
    values = list(values)
    return all(b > a for a, b in zip(values, values[1:]))


def resolution(rates: Sequence[float], diffs: Sequence[Dict[str, float]]) -> Optional[float]:
    """The smallest rate > 0 whose paired difference to the 0% step excludes zero upwards.

    Args:
        rates: the ladder's rates, ascending, starting with 0.
        diffs: per rate, the paired interval ``dict(diff, lo, hi)`` of
            ``metric(rate) - metric(0)`` (the 0% entry is ignored).

    Returns:
        The rate, or None when no step of the ladder is resolved.
    """
    for rate, diff in zip(rates, diffs):
        if rate > 0 and diff['lo'] > 0:
            return float(rate)
    return None


def valid_above_resolution(rates: Sequence[float], means: Sequence[float],
                           diffs: Sequence[Dict[str, float]], res: Optional[float]) -> bool:
    """The validity rule: the metric ranks the corruptions it can see.

    Valid when (1) the ladder resolves some step (``res`` not None), (2) the means rise
    strictly over the 0% step and every step from the resolution up, and (3) no step below
    the resolution is *significantly* better than 0% (its paired interval entirely below
    zero). A step below the resolution is one the metric cannot tell from none: its mean may
    fall either side of the 0% step by noise, which condition (3) bounds.
    """
    if res is None:
        return False
    kept = [m for r, m in zip(rates, means) if r == 0 or r >= res]
    if not is_monotonic(kept):
        return False
    return not any(d['hi'] < 0 for r, d in zip(rates, diffs) if 0 < r < res)


def ladder_verdict(space: str, modes: Dict[str, dict], rates: Sequence[float],
                   metric: str = 'FD to the round trip') -> str:
    """The sentence the page states about the metric in ``space``.

    ``modes``: per corruption mode, ``valid`` (:func:`valid_above_resolution`),
    ``monotonic`` (strictly over every step), ``resolution`` and ``steps`` (each with its
    ``fd_tok_vs_clean`` interval). Valid only when every mode is; otherwise the page states no
    direction for the space.
    """
    names = ', '.join(f'`{m}`' for m in modes)
    if not all(v['valid'] for v in modes.values()):
        bad = ', '.join(f'`{m}`' for m, v in modes.items() if not v['valid'])
        return (f'**The metric is not valid in the {space} space**: the {metric} of the '
                f'corrupted round trip does not rise monotonically from its resolution up, or '
                f'falls significantly below the uncorrupted step ({bad}), so this page states no '
                'direction for this space.')
    res = '; '.join(f'`{m}`: {100 * v["resolution"]:g}% of tokens' for m, v in modes.items())
    text = (f'The {metric} is valid in the {space} space: it rises monotonically with the '
            f'share of corrupted tokens from its resolution up ({names}). Its resolution at a '
            f'cell\'s sample size, the smallest corruption it tells from none: {res}.')
    below = [f'`{m}` {100 * r:g}%: {s["fd_tok_vs_clean"]["diff"]:+.2f} '
             f'[{s["fd_tok_vs_clean"]["lo"]:+.2f}, {s["fd_tok_vs_clean"]["hi"]:+.2f}]'
             for m, v in modes.items() if not v['monotonic']
             for r, s in zip(rates, v['steps']) if 0 < r < v['resolution']]
    if below:
        text += (' Below the resolution the ladder is within the metric\'s noise and not '
                 'strictly monotonic (against 0%: ' + '; '.join(below) + '): differences '
                 'smaller than the resolution\'s are below what the metric can see.')
    return text


def ladder_rows(rates: Sequence[float], steps: List[dict]) -> List[str]:
    """Markdown rows of one mode's ladder: rate, changed share, metrics and intervals."""
    rows = []
    for rate, step in zip(rates, steps):
        d = step['fd_tok_vs_clean']
        diff = '–' if rate == 0 else f'{d["diff"]:+.2f} [{d["lo"]:+.2f}, {d["hi"]:+.2f}]'
        draws = ', '.join(f'{v:.2f}' for v in step.get('fd_tok_draws', [step['fd_tok']]))
        rows.append(f'| {100 * rate:g}% | {100 * step["changed"]:.1f}% | '
                    f'{step["fd_tok"]:.2f} [{step["fd_tok_ci"][0]:.2f}, '
                    f'{step["fd_tok_ci"][1]:.2f}] | {draws} | {diff} | {step["fd_real"]:.2f} | '
                    f'{step["precision"]:.3f} | {step["recall"]:.3f} | {step["acc"]:.1f} |')
    return rows


def ladder_means(steps: List[dict], key: str = 'fd_tok') -> np.ndarray:
    """The metric of every step of one mode, in rate order."""
    return np.array([s[key] for s in steps], dtype=np.float64)
