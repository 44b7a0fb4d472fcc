"""Is the metric valid for edits? The fixing study's corruption ladder, inside the hole.

An edit changes only the tokens of its hole. The validation therefore corrupts the
probe images' token round trip *inside the hole of each mask set* (the editing
study's ``--hole-rates`` of the hole's tokens replaced by a random other code, exactly
:func:`projects.fixing_study.ladder.corrupt_within`, each step the mean of independent
draws as in the fixing study) and scores it as the edits are scored: the decoded
tokens against the round trip of the reference half (FD-tok), and the composite (real
pixels outside the mask) against the real reference images. The smallest step whose
paired interval against 0% excludes zero is the resolution at the edits' sample size;
each distance is judged by the fixing study's rule
(:func:`projects.fixing_study.ladder.valid_above_resolution`).
"""
import os.path as osp
from typing import Dict, Sequence

import numpy as np
import torch

from bigfix_mm.core.edit_masks import token_mask
from projects.fixing_study.cache import read_npz, write_npz
from projects.fixing_study.ladder import corrupt_within
from projects.fixing_study.report import features_digest, ladder_summary
from projects.fixing_study.sampling import decode_ids, score_images, to_bgr255

# the two measurements of an edit: the decoded tokens, and the composite
SIDES = ('decoded', 'composite')


@torch.no_grad()
def ladder_step(space, images: torch.Tensor, masks: torch.Tensor, rate: float,
                key: dict, draw: int = 0) -> Dict[str, np.ndarray]:
    """Scored decodings and composites of the probe's round trip with ``rate`` of every
    hole's tokens corrupted, by independent corruption ``draw`` (cached in the study's store
    under ``edit_ladder``).

    Returns:
        ``decoded_features`` / ``composite_features`` (N, 1280), ``decoded_logits`` /
        ``composite_logits`` (N, C), ``labels`` (N,), ``changed`` () share of hole tokens
        changed.
    """
    study, ref = space.study, space.ref
    # draw 0 keeps the key that a single-draw ladder had
    path = study.store.path('edit_ladder', dict(key, rate=float(rate),
                                                **({'draw': int(draw)} if draw else {})), 'npz')
    if osp.isfile(path):
        return read_npz(path)
    model = study.first_model
    tokens = torch.from_numpy(ref['probe_tokens']).long()  # (N, L)
    hole = token_mask(masks, model.tokenizer.downsample).flatten(1)  # (N, L)
    gen = torch.Generator().manual_seed(int(1000 * rate) + 11 + 100_003 * int(draw))
    ids = corrupt_within(tokens, rate, hole, model.codebook_size, gen)
    decoded = decode_ids(model, ids)  # (N, 3, H, W) RGB [0, 1]
    composite = torch.where(masks, decoded, images)
    out = dict(labels=ref['probe_labels'],
               changed=np.array(float((ids != tokens)[hole].double().mean())))
    for side, pixels in (('decoded', decoded), ('composite', composite)):
        scored = score_images(to_bgr255(pixels), study.features, study.classifier)
        out.update({f'{side}_{k}': v for k, v in scored.items()})
    write_npz(path, **out)
    print(f'[editing] hole ladder {key["masks"]} {100 * rate:g}% draw {draw}: {len(ids)} '
          'images scored', flush=True)
    return out


def hole_ladder(space, scorers: Dict[str, object], images: torch.Tensor, masks: torch.Tensor,
                kind: str, mask_seed: int, rates: Sequence[float], num_groups: int,
                draws: int = 1) -> dict:
    """Per side (``decoded``: FD to the round trip; ``composite``: FD to the real images),
    the :func:`~projects.fixing_study.report.ladder_summary` of the hole ladder of one mask
    set."""
    key = dict(probe=features_digest(space.ref['probe_tokens']), score=space.study.score_key,
               masks=kind, mask_seed=int(mask_seed), mode='uniform')
    steps = [[ladder_step(space, images, masks, r, key, d) for d in range(1 if r == 0 else draws)]
             for r in rates]
    out = {}
    for side in SIDES:
        parts = [[dict(features=s[f'{side}_features'], logits=s[f'{side}_logits'],
                       labels=s['labels'], changed=s['changed']) for s in step] for step in steps]
        out[side] = ladder_summary(space.study.store, scorers[side], space.ref_id,
                                   {'uniform': parts}, list(rates), num_groups)
    return out
