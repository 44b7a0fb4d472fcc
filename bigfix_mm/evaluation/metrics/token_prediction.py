"""Teacher-forced token metrics on a held-out corrupted split."""
import math
from typing import Sequence

from mmengine.evaluator import BaseMetric

from bigfix_mm.registry import METRICS


@METRICS.register_module()
class TokenPredictionMetric(BaseMetric):
    """Validation loss and accuracies of the transformer on corrupted tokens.

    Consumes the per-sample ``DataSample``s of :meth:`BIGFix.predict` (as dicts,
    the Evaluator's conversion) and reports ``val_loss`` (mean cross-entropy over
    all positions except given context frames), ``masked_acc``, ``injected_acc``
    (injected tokens restored) and ``clean_acc``.
    """

    default_prefix = 'token'
    keys = ('ce_sum', 'num_tokens', 'masked_correct', 'masked_count', 'injected_correct',
            'injected_count', 'clean_correct', 'clean_count')

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append({k: float(sample.get(k)) for k in self.keys})

    def compute_metrics(self, results: list) -> dict:
        total = lambda key: sum(r[key] for r in results)  # noqa: E731
        ratio = lambda a, b: total(a) / total(b) if total(b) else math.nan  # noqa: E731
        return dict(loss=ratio('ce_sum', 'num_tokens'),
                    masked_acc=ratio('masked_correct', 'masked_count'),
                    injected_acc=ratio('injected_correct', 'injected_count'),
                    clean_acc=ratio('clean_correct', 'clean_count'))
