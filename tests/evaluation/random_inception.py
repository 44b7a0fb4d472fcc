"""Randomly initialised stand-ins for Tero Karras' metric networks (pipeline tests only).

MMagic's FID / IS / precision-recall call a TorchScript module as
``net(uint8 RGB (B, 3, H, W), return_features=...)`` or
``net(..., no_output_bias=True)``. The files written here have that interface
and random weights: numbers computed with them test that the evaluation path
runs end to end and mean nothing about image quality.
"""
import os
import os.path as osp

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ('tiny', 'inception_v3')


class TeroInterface(nn.Module):
    """uint8 RGB images -> pooled features, or softmax probabilities over ``num_classes``.

    Shapes: input (B, 3, H, W) uint8 (any H, W; resized to ``input_size``);
    features (B, D) float; probabilities (B, num_classes) float.
    """

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int = 1008,
                 input_size: int = 299):
        super().__init__()
        self.backbone = backbone
        self.input_size = input_size
        self.fc = nn.Linear(feature_dim, num_classes)

    def forward(self, x: torch.Tensor, return_features: bool = False,
                no_output_bias: bool = False) -> torch.Tensor:
        x = F.interpolate(x.float(), size=(self.input_size, self.input_size), mode='bilinear',
                          align_corners=False)
        feat = self.backbone((x - 128.0) / 128.0)  # (B, D)
        if return_features:
            return feat
        if no_output_bias:
            logits = F.linear(feat, self.fc.weight)
        else:
            logits = self.fc(feat)
        return torch.softmax(logits, dim=1)


def _backbone(arch: str, feature_dim: int) -> nn.Module:
    if arch == 'tiny':
        return nn.Sequential(nn.Conv2d(3, 16, 4, 4), nn.ReLU(), nn.Conv2d(16, feature_dim, 3, 2),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten())
    from torchvision.models.inception import Inception3
    net = Inception3(num_classes=1000, aux_logits=False, init_weights=True)
    names = ['Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'maxpool1', 'Conv2d_3b_1x1',
             'Conv2d_4a_3x3', 'maxpool2', 'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a',
             'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e', 'Mixed_7a', 'Mixed_7b', 'Mixed_7c',
             'avgpool']
    return nn.Sequential(*[getattr(net, n) for n in names], nn.Flatten())  # (B, 2048)


def write_random_inception(path: str, arch: str = 'tiny', feature_dim: int = 64,
                           seed: int = 0) -> str:
    """Write a random-weight TorchScript network with Tero's interface (atomic).

    Args:
        path: output ``.pt`` file.
        arch: ``'tiny'`` (two convolutions, ``feature_dim`` features, 64 px
            input: milliseconds) or ``'inception_v3'`` (torchvision's
            architecture, 2048 features, 299 px input).
        feature_dim: feature size of ``'tiny'``.
        seed: weight initialisation seed.

    Returns:
        ``path``.
    """
    if arch not in ARCHS:
        raise ValueError(f'arch={arch!r} is not one of {ARCHS}')
    dim = feature_dim if arch == 'tiny' else 2048
    with torch.random.fork_rng(devices=[]):  # leave the caller's RNG untouched
        torch.manual_seed(seed)
        net = TeroInterface(_backbone(arch, dim), dim, input_size=64 if arch == 'tiny' else 299)
    scripted = torch.jit.script(net.eval().requires_grad_(False))  # frozen, as Tero's files
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp.{os.getpid()}'
    scripted.save(tmp)
    os.replace(tmp, path)
    return path
