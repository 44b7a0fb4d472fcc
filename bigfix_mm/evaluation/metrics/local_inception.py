"""MMagic's FID, IS and precision/recall, loading their networks only from local files.

MMagic downloads Tero Karras' TorchScript Inception (and VGG16) when no local
file is given, and fails late with an unspecific message where that is
impossible. These subclasses keep MMagic's computation unchanged and only:

- require the network file to exist *when the metric is built* (before any
  sampling or training), with an error that names the option to set;
- name the real-statistics caches by the network file's hash and an
  address-free dataset description (MMagic's default name hashes object
  addresses, and ignores which network made the statistics);
- default ``sample_model`` to ``'orig'`` so all metrics share one sampler;
- (precision/recall) load the VGG16 file they are given: MMagic 1.2.0 checks
  ``vgg16_script`` but then always loads ``work_dirs/cache/vgg16.pt``.

The caches are pickles written by MMagic: only point ``inception_pkl`` /
``vgg16_pkl`` to files you made yourself.
"""
import os
import os.path as osp
from typing import Optional, Tuple

import torch
from mmagic.evaluation.metrics import (FrechetInceptionDistance, InceptionScore,
                                       PrecisionAndRecall)
from mmagic.utils import MMAGIC_CACHE_DIR
from torch import nn

from bigfix_mm.registry import METRICS
from bigfix_mm.evaluation.efficientnet import file_digest
from bigfix_mm.evaluation.real_features import cache_dir, describe_dataset, meta_hash
from bigfix_mm.evaluation.metrics.efficientnet_fd import check_fake_nums

INCEPTION_URL = ('https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/'
                 'inception-2015-12-05.pt')
VGG16_URL = 'https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/vgg16.pt'
DEFAULT_INCEPTION = osp.join(MMAGIC_CACHE_DIR, 'inception-2015-12-05.pt')
DEFAULT_VGG16 = osp.join(MMAGIC_CACHE_DIR, 'vgg16.pt')


def require_local_file(path: Optional[str], option: str, metric: str, default: str,
                       url: str) -> str:
    """Return ``path`` (or ``default`` when ``path`` is None) if it is a file, else raise.

    Raises:
        FileNotFoundError: naming ``option``, where to get the file and where
            to put it.
    """
    candidate = path if path else default
    if osp.isfile(candidate):
        return candidate
    given = f'{option}={path!r}' if path else f'{option} is not set and {default} does not exist'
    raise FileNotFoundError(
        f'{metric}: {given}. Its network cannot be downloaded here. Fetch the TorchScript file '
        f'on a machine with internet access ({url}), copy it here, and set `{option}` to its '
        f'path (e.g. --cfg-options test_evaluator.metrics.<i>.{option}=/path/file.pt), or '
        f'place it at {default}.')


def _cache_file(kind: str, digest: str, dataset, real_nums: int) -> str:
    meta = dict(kind=kind, network=digest, real_nums=real_nums, dataset=describe_dataset(dataset))
    return osp.join(cache_dir(), 'fd_stats', f'{kind}_{digest}_{meta_hash(meta)}.pkl')


@METRICS.register_module()
class LocalFrechetInceptionDistance(FrechetInceptionDistance):
    """MMagic's :class:`FrechetInceptionDistance` with a required local Inception file.

    Args:
        fake_nums: number of generated images (int).
        real_nums: real images, -1 for the whole dataset. MMagic takes the
            *first* ``real_nums`` items: keep -1 on class-sorted data.
        inception_path: Tero's ``inception-2015-12-05.pt`` TorchScript file;
            None: ``~/.cache/openmmlab/mmagic/inception-2015-12-05.pt``.
        inception_pkl: real-statistics cache; None: named by the file hash
            and dataset under ``$BIGFIX_CACHE`` (``~/.cache/bigfix_mm``).
        Others: as :class:`FrechetInceptionDistance`.
    """

    def __init__(self,
                 fake_nums: int,
                 real_nums: int = -1,
                 inception_path: Optional[str] = None,
                 inception_pkl: Optional[str] = None,
                 fake_key: Optional[str] = None,
                 real_key: Optional[str] = 'gt_img',
                 need_cond_input: bool = False,
                 sample_model: str = 'orig',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 sample_kwargs: Optional[dict] = None):
        name = type(self).__name__
        check_fake_nums(fake_nums, 2, name)
        path = require_local_file(inception_path, 'inception_path', name, DEFAULT_INCEPTION,
                                  INCEPTION_URL)
        self.inception_digest = file_digest(path)
        super().__init__(fake_nums, real_nums, 'StyleGAN', path, inception_pkl, fake_key,
                         real_key, need_cond_input, sample_model, collect_device, prefix,
                         dict(sample_kwargs or {}))

    def prepare(self, module: nn.Module, dataloader) -> None:
        if self.inception_pkl is None:
            self.inception_pkl = _cache_file('fid_inception', self.inception_digest,
                                             dataloader.dataset, self.real_nums)
        with torch.no_grad():  # MMagic extracts real features with autograd on
            super().prepare(module, dataloader)


@METRICS.register_module()
class LocalInceptionScore(InceptionScore):
    """MMagic's :class:`InceptionScore` with a required local Inception file.

    Args:
        fake_nums: number of generated images (int, >= ``splits``).
        inception_path: as :class:`LocalFrechetInceptionDistance`.
        Others: as :class:`InceptionScore`.
    """

    def __init__(self,
                 fake_nums: int,
                 resize: bool = True,
                 splits: int = 10,
                 inception_path: Optional[str] = None,
                 resize_method: str = 'bicubic',
                 use_pillow_resize: bool = True,
                 fake_key: Optional[str] = None,
                 need_cond_input: bool = False,
                 sample_model: str = 'orig',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 sample_kwargs: Optional[dict] = None):
        name = type(self).__name__
        check_fake_nums(fake_nums, max(2, int(splits)), name)
        path = require_local_file(inception_path, 'inception_path', name, DEFAULT_INCEPTION,
                                  INCEPTION_URL)
        super().__init__(fake_nums, resize, splits, 'StyleGAN', path, resize_method,
                         use_pillow_resize, fake_key, need_cond_input, sample_model,
                         collect_device, prefix)
        self.sample_kwargs = dict(sample_kwargs or {})  # MMagic's IS does not take them


@METRICS.register_module()
class LocalPrecisionAndRecall(PrecisionAndRecall):
    """MMagic's :class:`PrecisionAndRecall` with a required local VGG16 file.

    Args:
        fake_nums: number of generated images (int, > ``k``).
        real_nums: real images, -1 for the whole dataset (all of it is
            embedded once and cached; MMagic then draws ``real_nums`` with
            replacement).
        vgg16_script: Tero's ``vgg16.pt`` TorchScript file; None:
            ``~/.cache/openmmlab/mmagic/vgg16.pt``.
        vgg16_pkl: real-feature cache; None: named like the FID cache.
        Others: as :class:`PrecisionAndRecall`.
    """

    def __init__(self,
                 fake_nums: int,
                 real_nums: int = -1,
                 k: int = 3,
                 vgg16_script: Optional[str] = None,
                 vgg16_pkl: Optional[str] = None,
                 fake_key: Optional[str] = None,
                 real_key: Optional[str] = 'gt_img',
                 need_cond_input: bool = False,
                 sample_model: str = 'orig',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 sample_kwargs: Optional[dict] = None,
                 row_batch_size: int = 10000,
                 col_batch_size: int = 10000):
        name = type(self).__name__
        check_fake_nums(fake_nums, int(k) + 1, name)
        path = require_local_file(vgg16_script, 'vgg16_script', name, DEFAULT_VGG16, VGG16_URL)
        self.vgg16_digest = file_digest(path)
        super().__init__(fake_nums, real_nums, k, fake_key, real_key, need_cond_input,
                         sample_model, collect_device, prefix, path, vgg16_pkl,
                         row_batch_size, col_batch_size, auto_save=True)
        self.sample_kwargs = dict(sample_kwargs or {})

    def _load_vgg(self, vgg16_script: Optional[str]) -> Tuple[nn.Module, bool]:
        return torch.jit.load(vgg16_script, map_location='cpu').eval(), True

    def prepare(self, module: nn.Module, dataloader) -> None:
        if self.vgg16_pkl is None:
            self.vgg16_pkl = _cache_file('pr_vgg16', self.vgg16_digest, dataloader.dataset, -1)
        os.makedirs(osp.dirname(osp.abspath(self.vgg16_pkl)), exist_ok=True)  # MMagic does not
        with torch.no_grad():
            super().prepare(module, dataloader)
