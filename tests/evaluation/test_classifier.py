import pytest
import torch

from bigfix_mm.evaluation.classifier import CifarClassifier, load_classifier, save_classifier


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
    with pytest.raises(FileNotFoundError, match='classifier_path=.*projects.classifier_training'):
        load_classifier(str(tmp_path / 'absent.pth'))
