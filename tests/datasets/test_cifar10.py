import numpy as np
import pytest

from bigfix_mm.registry import DATASETS
from ..conftest import requires_cifar


@requires_cifar
def test_cifar10_items_and_subset():
    ds = DATASETS.build(dict(type='CIFAR10JPEG', split='test', indices=20))
    assert len(ds) == 20
    item = ds[3]
    assert item['img'].shape == (32, 32, 3) and item['img'].dtype == np.uint8
    assert 0 <= item['gt_label'] < 10
    assert ds.metainfo['classes'][0] == 'airplane'


def test_missing_data_root_names_the_field(tmp_path):
    with pytest.raises(FileNotFoundError, match='data_root'):
        DATASETS.build(dict(type='CIFAR10JPEG', data_root=str(tmp_path / 'nope')))


def test_missing_shared_folder_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv('BIGFIX_SHARED', str(tmp_path))
    with pytest.raises(FileNotFoundError, match='BIGFIX_SHARED'):
        DATASETS.build(dict(type='CIFAR10JPEG'))
