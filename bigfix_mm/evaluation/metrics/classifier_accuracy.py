"""Accuracy of a CIFAR-10 classifier on class-conditional samples."""
from typing import Optional, Sequence

import torch
from mmagic.evaluation.metrics.base_gen_metric import GenerativeMetric
from mmengine.model import is_model_wrapper
from torch import nn
from torch.utils.data import DataLoader

from bigfix_mm.registry import METRICS
from bigfix_mm.evaluation.classifier import load_classifier
from bigfix_mm.evaluation.metrics.efficientnet_fd import check_fake_nums, fake_images


def sample_labels(data_samples: Sequence[dict]) -> torch.Tensor:
    """(B,) int64 conditioning labels of MMagic outputs (``gt_label`` as set by BIGFix)."""
    labels = []
    for pred in data_samples:
        label = pred.get('gt_label')
        if isinstance(label, dict):  # LabelData.to_dict()
            label = label.get('label')
        if label is None:
            raise KeyError('ClassifierAccuracy: a generated sample has no `gt_label`; the '
                           'model must record the class it was conditioned on (BIGFix does).')
        labels.append(torch.as_tensor(label).reshape(-1)[0])
    return torch.stack(labels).long()


@METRICS.register_module()
class ClassifierAccuracy(GenerativeMetric):
    """Share of generated images that a real-data classifier assigns to their class.

    The classifier is the one ``projects/classifier_training`` trains on the real
    CIFAR-10 training split (its test accuracy on real images is the ceiling
    to compare with). Loading it checks ``classifier_path`` at construction,
    before any sampling.

    Args:
        fake_nums: number of generated images (int).
        classifier_path: the saved classifier (``weights_only`` load).
        fake_key / need_cond_input / sample_model / collect_device / prefix /
        sample_kwargs: as MMagic's :class:`GenerativeMetric`.

    Reports ``{prefix}/acc`` (top-1, %) and ``{prefix}/real_acc`` (the
    classifier's accuracy on the real test split, from its file, %).
    """

    name = 'ClassifierAccuracy'
    default_prefix = 'cls'

    def __init__(self,
                 fake_nums: int,
                 classifier_path: Optional[str] = None,
                 fake_key: Optional[str] = None,
                 need_cond_input: bool = False,
                 sample_model: str = 'orig',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 sample_kwargs: Optional[dict] = None):
        check_fake_nums(fake_nums, 1, type(self).__name__)
        super().__init__(fake_nums, 0, fake_key, None, need_cond_input, sample_model,
                         collect_device, prefix, dict(sample_kwargs or {}))
        self.classifier, self.classifier_meta = load_classifier(classifier_path)
        self.device = torch.device('cpu')

    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        if is_model_wrapper(module):
            module = module.module
        self.device = module.data_preprocessor.device
        self.classifier.to(self.device)

    @torch.no_grad()
    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        if len(self.fake_results) >= self.fake_nums_per_device:
            return
        imgs = fake_images(data_samples, self.sample_model, self.fake_key)
        pred = self.classifier.classify_bgr(imgs.to(self.device)).argmax(-1).cpu()
        labels = sample_labels(data_samples)
        self.fake_results += list(torch.stack([pred, labels], dim=1).split(1))  # (1, 2) each

    def compute_metrics(self, fake_results: list) -> dict:
        pairs = torch.cat(list(fake_results))  # (N, 2): prediction, label
        acc = (pairs[:, 0] == pairs[:, 1]).float().mean().item() * 100.0
        real = self.classifier_meta.get('test_acc')
        return dict(acc=acc, real_acc=float(real) if real is not None else float('nan'))
