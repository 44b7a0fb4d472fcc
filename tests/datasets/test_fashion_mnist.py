"""FashionMNIST from the Debian package dataset-fashion-mnist (IDX files)."""
import gzip
from pathlib import Path

import numpy as np
import pytest

from bigfix_mm.datasets.fashion_mnist import DEBIAN_ROOT, read_idx
from bigfix_mm.registry import DATASETS

requires_debian = pytest.mark.skipif(
    not (Path(DEBIAN_ROOT) / 't10k-labels-idx1-ubyte.gz').is_file()
    and not (Path(DEBIAN_ROOT) / 't10k-labels-idx1-ubyte').is_file(),
    reason='apt-get install dataset-fashion-mnist')


def _idx(path, arr):
    header = bytes([0, 0, 8, arr.ndim]) + b''.join(int(d).to_bytes(4, 'big') for d in arr.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + arr.astype(np.uint8).tobytes())


@requires_debian
def test_debian_package_test_split():
    ds = DATASETS.build(dict(type='FashionMNIST', split='test', indices=50))
    assert len(ds) == 50
    item = ds[0]
    assert item['img'].shape == (28, 28, 3) and item['img'].dtype == np.uint8
    assert item['gt_label'] == 9  # the first test image is an ankle boot
    assert ds.metainfo['classes'][9] == 'Ankle boot'
    full = DATASETS.build(dict(type='FashionMNIST', split='test'))
    assert len(full) == 10000 and np.bincount(full._labels).tolist() == [1000] * 10


def test_reads_idx_files_and_pads_to_a_tokenizer_size(tmp_path):
    imgs = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    _idx(tmp_path / 'train-images-idx3-ubyte.gz', imgs)
    _idx(tmp_path / 'train-labels-idx1-ubyte.gz', np.array([4, 0, 7]))
    assert np.array_equal(read_idx(tmp_path / 'train-images-idx3-ubyte.gz'), imgs)
    ds = DATASETS.build(dict(type='FashionMNIST', data_root=str(tmp_path), split='train',
                             pipeline=[dict(type='CenterCropResize', size=32)]))
    assert len(ds) == 3 and ds[2]['gt_label'] == 7 and ds[2]['img'].shape == (32, 32, 3)


def test_missing_or_broken_files_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match='apt-get install dataset-fashion-mnist'):
        DATASETS.build(dict(type='FashionMNIST', data_root=str(tmp_path)))
    (tmp_path / 'x-idx').write_bytes(b'\x00\x00\x0d\x01' + (3).to_bytes(4, 'big'))
    with pytest.raises(ValueError, match='not an IDX file'):
        read_idx(tmp_path / 'x-idx')
