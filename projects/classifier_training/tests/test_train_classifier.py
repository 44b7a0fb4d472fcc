"""projects/classifier_training on a small subset of the real CIFAR-10 splits."""
from bigfix_mm.evaluation.classifier import load_classifier
from projects.classifier_training.train import main
from tests.conftest import requires_cifar


@requires_cifar
def test_trains_saves_and_reports_test_accuracy(tmp_path):
    out = tmp_path / 'c' / 'classifier.pth'
    meta = main(['--out', str(out), '--epochs', '1', '--width', '4',
                             '--batch-size', '50', '--train-limit', '200', '--test-limit', '100'])
    model, saved = load_classifier(str(out))
    assert saved == meta and 0.0 <= meta['test_acc'] <= 100.0
    assert meta['train_images'] == 200 and meta['test_images'] == 100
    assert model.config == dict(num_classes=10, width=4, image_size=32)
