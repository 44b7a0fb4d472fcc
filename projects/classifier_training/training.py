"""Train and test the CIFAR-10 classifier that scores class-conditional samples (CPU-friendly)."""
import math
import time
from typing import Callable, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from bigfix_mm.evaluation.classifier import CifarClassifier


def load_cifar10_arrays(split: str, data_root: Optional[str] = None,
                        limit: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Decode a CIFAR-10 split (official release or JPEG edition) into memory.

    Returns:
        ``(images (N, 3, 32, 32) uint8 RGB, labels (N,) int64)``; with ``limit``
        an evenly strided subset of N = ``limit`` images (the files are sorted by
        class, so the first N would be one class).
    """
    from bigfix_mm.datasets.cifar10 import CIFAR10JPEG
    dataset = CIFAR10JPEG(data_root=data_root, split=split, lazy_init=False)
    index = np.arange(len(dataset))
    if limit is not None and limit < len(index):
        index = index[np.linspace(0, len(index) - 1, limit).round().astype(int)]
    infos = [dataset.get_data_info(int(i)) for i in index]
    images = np.stack([info['img'] for info in infos])  # (N, 32, 32, 3)
    labels = np.array([info['gt_label'] for info in infos])
    images_t = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # (N, 3, 32, 32)
    return images_t, torch.from_numpy(labels).long()


def augment(images: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop after reflect padding, and random horizontal flip.

    Args:
        images: (B, 3, H, W) float.

    Returns:
        (B, 3, H, W) float.
    """
    bsz, _, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad), mode='reflect')
    dy = torch.randint(0, 2 * pad + 1, (bsz, ), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (bsz, ), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None]).view(bsz, 1, h, 1).expand(-1, 3, -1, w + 2 * pad)
    out = padded.gather(2, rows)  # (B, 3, H, W + 2 pad)
    cols = (dx[:, None] + torch.arange(w)[None]).view(bsz, 1, 1, w).expand(-1, 3, h, -1)
    out = out.gather(3, cols)  # (B, 3, H, W)
    flip = torch.rand(bsz, generator=generator) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), out.flip(3), out)


@torch.no_grad()
def accuracy(model: CifarClassifier, images: torch.Tensor, labels: torch.Tensor,
             batch_size: int = 500) -> float:
    """Top-1 accuracy in % of ``model`` on (N, 3, H, W) uint8 RGB ``images``."""
    model.eval()
    correct = 0
    for x, y in zip(images.split(batch_size), labels.split(batch_size)):
        x = x.float().div(255)
        correct += (model(x).argmax(-1) == y).sum().item()
    return 100.0 * correct / max(1, len(labels))


def train_classifier(train: Tuple[torch.Tensor, torch.Tensor],
                     test: Tuple[torch.Tensor, torch.Tensor],
                     epochs: int = 4,
                     width: int = 16,
                     batch_size: int = 256,
                     lr: float = 0.2,
                     weight_decay: float = 5e-4,
                     label_smoothing: float = 0.1,
                     seed: int = 0,
                     log: Callable[[str], None] = print) -> Tuple[CifarClassifier, dict]:
    """SGD (Nesterov) with a one-cycle schedule on the training split.

    Args:
        train / test: ``(images (N, 3, 32, 32) uint8 RGB, labels (N,) int64)``.
        epochs, width, batch_size, lr, weight_decay, label_smoothing: training
            settings (defaults: ~2 min per epoch on 2 CPU cores).
        seed: initialisation, shuffling and augmentation seed.

    Returns:
        ``(model in eval mode, meta)`` with ``test_acc`` (%) and the settings.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    # default (NCHW) memory format: channels_last training aborted with a double free in the
    # CPU backward of the installed torch (2.14)
    model = CifarClassifier(num_classes=10, width=width)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    optim = torch.optim.SGD([dict(params=decay, weight_decay=weight_decay),
                             dict(params=no_decay, weight_decay=0.0)],
                            lr=lr, momentum=0.9, nesterov=True)
    images, labels = train
    steps_per_epoch = math.ceil(len(labels) / batch_size)
    total = epochs * steps_per_epoch
    if total >= 8:
        sched = torch.optim.lr_scheduler.OneCycleLR(optim, max_lr=lr, total_steps=total,
                                                    pct_start=0.25)
    else:  # too few steps for a warm-up and a decay
        sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda step: 1.0)
    start = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(labels), generator=gen)
        total, seen = 0.0, 0
        for idx in order.split(batch_size):
            x = augment(images[idx].float().div(255), gen)
            loss = F.cross_entropy(model(x), labels[idx], label_smoothing=label_smoothing)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        log(f'epoch {epoch + 1}/{epochs}: train loss {total / seen:.4f} '
            f'({time.time() - start:.0f} s)')
    test_acc = accuracy(model, *test)
    meta = dict(test_acc=test_acc, epochs=epochs, width=width, batch_size=batch_size, lr=lr,
                weight_decay=weight_decay, label_smoothing=label_smoothing, seed=seed,
                train_images=int(len(labels)), test_images=int(len(test[1])),
                train_seconds=round(time.time() - start, 1))
    log(f'test accuracy {test_acc:.2f}% on {len(test[1])} real test images')
    return model.eval(), meta
