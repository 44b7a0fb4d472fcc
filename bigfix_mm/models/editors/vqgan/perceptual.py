"""LPIPS perceptual loss from user-supplied VGG16 weights (nothing is downloaded)."""
from pathlib import Path

import torch
from torch import nn

from bigfix_mm.core.checkpoint import load_checkpoint_file

# torchvision's vgg16.features indices held by each LPIPS slice
_SLICES = ((1, range(0, 4)), (2, range(4, 9)), (3, range(9, 16)), (4, range(16, 23)),
           (5, range(23, 30)))


def _vgg_to_lpips(state: dict) -> dict:
    """torchvision ``features.{i}.*`` keys -> LPIPS ``net.slice{k}.{i}.*`` keys."""
    out = {}
    for key, value in state.items():
        if not key.startswith('features.'):
            continue
        index = int(key.split('.')[1])
        for slice_id, indices in _SLICES:
            if index in indices:
                out[f'net.slice{slice_id}.{key[len("features."):]}'] = value
    return out


class LPIPSLoss(nn.Module):
    """LPIPS (VGG16, v0.1) between (B, 3, H, W) images in [-1, 1]; returns a scalar mean.

    Args:
        weights: a local file with either torchvision's ImageNet VGG16 weights
            (``vgg16-397923af.pth``: ``features.*`` keys; the LPIPS linear heads
            then come from the ``lpips`` package) or a full LPIPS state dict
            (``net.slice1.0.weight``, ``lin0.model.1.weight``, ...).
        option: the config option named in errors.
    """

    def __init__(self, weights: str, option: str = 'model.perceptual_weights'):
        super().__init__()
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(
                f'{option}={weights!r}: file not found. The perceptual (LPIPS) loss needs local '
                'VGG16 weights (torchvision vgg16-397923af.pth or an LPIPS state dict); nothing is '
                f'downloaded. Set {option}=None to train without it.')
        import lpips
        self.net = lpips.LPIPS(net='vgg', pretrained=True, pnet_rand=True, verbose=False)
        state = load_checkpoint_file(path)
        state = state.get('state_dict', state) if isinstance(state, dict) else state
        if any(k.startswith('features.') for k in state):
            state = _vgg_to_lpips(state)
            expected = {k for k in self.net.state_dict() if k.startswith('net.')}
        else:
            expected = {k for k in self.net.state_dict() if k.startswith(('net.', 'lin'))}
        missing = sorted(expected - set(state))
        if missing:
            raise ValueError(f'{option}={weights!r} is not a VGG16 / LPIPS weights file: '
                             f'{len(missing)} keys missing, e.g. {missing[:3]}')
        self.net.load_state_dict(state, strict=False)
        self.net.requires_grad_(False)
        self.net.eval()

    def train(self, mode: bool = True) -> 'LPIPSLoss':
        return super().train(False)  # frozen: dropout stays off

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.net(pred.float(), target.float()).mean()
