import pytest
import torch

from bigfix_mm.evaluation.classifier import CifarClassifier, load_classifier, save_classifier
from bigfix_mm.evaluation.classifier_training import accuracy, augment, train_classifier


def test_save_load_round_trip_is_weights_only(tmp_path):
    model = CifarClassifier(width=4).eval()
    path = str(tmp_path / 'c.pth')
    save_classifier(path, model, dict(test_acc=55.5))
    loaded, meta = load_classifier(path)
    assert meta == dict(test_acc=55.5)
    x = torch.rand(2, 3, 32, 32) * 255
    assert torch.allclose(loaded.classify_bgr(x), model.classify_bgr(x))
    assert loaded.classify_bgr(torch.rand(2, 3, 64, 64) * 255).shape == (2, 10)  # resized
    torch.save({'not': 'a classifier'}, str(tmp_path / 'other.pth'))
    with pytest.raises(ValueError, match='not a classifier'):
        load_classifier(str(tmp_path / 'other.pth'))


def test_missing_file_names_the_option_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match='classifier_path=.*tools/train_classifier.py'):
        load_classifier(str(tmp_path / 'absent.pth'))


def test_augment_keeps_shapes_and_pixels():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 3, 8, 8)
    out = augment(x, g, pad=2)
    assert out.shape == x.shape
    assert torch.equal(augment(x, g, pad=0).sort(-1).values, x.sort(-1).values)  # flips only


def test_training_learns_a_separable_toy_task():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(64) % 2
    images = torch.randint(0, 100, (64, 3, 32, 32), generator=g, dtype=torch.uint8)
    images[labels == 1] += 120  # class 1 is bright
    model, meta = train_classifier((images, labels), (images, labels), epochs=3, width=4,
                                   batch_size=16, lr=0.05, log=lambda msg: None)
    assert meta['test_acc'] == accuracy(model, images, labels) > 90
