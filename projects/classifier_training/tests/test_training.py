"""The classifier that scores the study's samples (projects/classifier_training/training_training.py)."""
import torch

from projects.classifier_training.training import accuracy, augment, train_classifier


def test_augment_keeps_shapes_and_pixels():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 3, 8, 8)
    out = augment(x, g, pad=2)
    assert out.shape == x.shape
    assert torch.equal(augment(x, g, pad=0).sort(-1).values, x.sort(-1).values)  # flips only


def test_training_learns_a_separable_toy_problem():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(64) % 2
    images = torch.randint(0, 100, (64, 3, 32, 32), generator=g, dtype=torch.uint8)
    images[labels == 1] += 120  # class 1 is bright
    model, meta = train_classifier((images, labels), (images, labels), epochs=3, width=4,
                                   batch_size=16, lr=0.05, log=lambda msg: None)
    assert meta['test_acc'] == accuracy(model, images, labels) > 90
