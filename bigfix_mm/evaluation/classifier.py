"""A small CIFAR-10 classifier that scores class-conditional samples.

Trained by ``projects/classifier_training`` on the real training split; saved as a
plain dict of tensors and numbers and loaded with ``weights_only=True``.
"""
import os.path as osp
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from bigfix_mm.core.files import atomic_path

# Per-channel RGB statistics of the CIFAR-10 training split (in [0, 1]).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
TRAIN_COMMAND = 'python -m projects.classifier_training --out work_dirs/cifar10_classifier/classifier.pth'


class _ResBlock(nn.Module):

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x))


class CifarClassifier(nn.Module):
    """ResNet-style classifier for 32x32 images.

    Args:
        num_classes: number of classes.
        width: channels of the first stage (doubled twice).
        image_size: the input resolution it was trained at (inputs of other
            sizes are resized by :meth:`classify_bgr`).

    Shapes:
        forward: (B, 3, H, W) float RGB in [0, 1] -> (B, num_classes) logits.
    """

    def __init__(self, num_classes: int = 10, width: int = 32, image_size: int = 32):
        super().__init__()
        self.config = dict(num_classes=int(num_classes), width=int(width),
                           image_size=int(image_size))
        w = int(width)
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w),
                                  nn.ReLU(inplace=True))
        self.stages = nn.Sequential(_ResBlock(w, w, 1), _ResBlock(w, 2 * w, 2),
                                    _ResBlock(2 * w, 4 * w, 2), _ResBlock(4 * w, 4 * w, 1))
        self.fc = nn.Linear(4 * w, num_classes)
        self.register_buffer('mean', torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(CIFAR10_STD).view(1, 3, 1, 1))

    def forward(self, img_rgb: torch.Tensor) -> torch.Tensor:
        x = (img_rgb - self.mean) / self.std
        x = self.stages(self.stem(x))
        return self.fc(x.mean(dim=(2, 3)))

    @torch.no_grad()
    def classify_bgr(self, img_bgr: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) float BGR in [0, 255] (MMagic's contract) -> (B, C) logits."""
        x = img_bgr.float().flip(1) / 255.0
        size = self.config['image_size']
        if x.shape[-2:] != (size, size):
            x = F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False,
                              antialias=x.shape[-1] > size)
        return self(x)


def save_classifier(path: str, model: CifarClassifier, meta: Optional[dict] = None) -> None:
    """Write config, state dict and ``meta`` (numbers / strings) atomically."""
    payload = dict(config=dict(model.config), state_dict=model.state_dict(), meta=dict(meta or {}))
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_classifier(path: Optional[str], map_location='cpu',
                    option: str = 'classifier_path') -> Tuple[CifarClassifier, dict]:
    """Load a classifier saved by :func:`save_classifier` (``weights_only=True``).

    Returns:
        ``(model in eval mode, meta)``.
    """
    if not path or not osp.isfile(path):
        raise FileNotFoundError(
            f'{option}={path!r} is not a file. Train the CIFAR-10 classifier first '
            f'(`{TRAIN_COMMAND}`) and set `{option}` to the saved file.')
    payload = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(payload, dict) or 'state_dict' not in payload or 'config' not in payload:
        raise ValueError(f'{option}={path!r} is not a classifier written by '
                         'projects/classifier_training (no `config` / `state_dict`).')
    model = CifarClassifier(**payload['config'])
    model.load_state_dict(payload['state_dict'], strict=True)
    return model.eval().requires_grad_(False), dict(payload.get('meta', {}))
