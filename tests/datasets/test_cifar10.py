"""CIFAR-10: both layouts, every lookup branch, checksums, download and the offline error."""
import hashlib
import io
import os
import pickle
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from bigfix_mm.datasets import cifar10, paths
from bigfix_mm.errors import DataNotFoundError, InputError
from bigfix_mm.registry import DATASETS
from tests.conftest import requires_cifar
from tests.datasets.cifar_release import fake_images, patch_official_md5s, release_tarball, write_fake_release


@pytest.fixture
def no_standard_places(tmp_path, monkeypatch):
    """An empty working directory and an empty BIGFIX_SHARED: nothing is found by default."""
    work, shared = tmp_path / 'work', tmp_path / 'shared'
    work.mkdir()
    shared.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv('BIGFIX_SHARED', str(shared))
    return work, shared


def build(**kwargs):
    return DATASETS.build(dict(type='CIFAR10JPEG', **kwargs))


def assert_is_fake_release(ds, split='train', per_batch=4):
    names = cifar10.SPLIT_FILES[split]
    images = np.concatenate([fake_images(n, per_batch)[0] for n in names])
    labels = np.concatenate([fake_images(n, per_batch)[1] for n in names])
    assert ds.layout == 'official' and len(ds) == len(images)
    for i in sorted({0, min(per_batch + 1, len(images) - 1), len(images) - 1}):
        assert np.array_equal(ds[i]['img'], images[i]) and ds[i]['img'].dtype == np.uint8
        assert ds[i]['gt_label'] == labels[i]


def write_jpeg_edition(root, n=6):
    """A tiny {train,test}.npz in the shared JPEG edition's format."""
    root.mkdir(parents=True, exist_ok=True)
    for split in ('train', 'test'):
        chunks = []
        for i in range(n):
            buf = io.BytesIO()
            Image.fromarray(np.full((32, 32, 3), 20 * i, np.uint8)).save(buf, format='JPEG')
            chunks.append(np.frombuffer(buf.getvalue(), np.uint8))
        offsets = np.concatenate([[0], np.cumsum([len(c) for c in chunks])]).astype(np.int64)
        np.savez(root / f'{split}.npz', jpeg=np.concatenate(chunks), offsets=offsets,
                 labels=np.arange(n, dtype=np.int16) % 10,
                 classes=np.array(cifar10.CIFAR10_CLASSES))


@requires_cifar
def test_cifar10_items_and_subset():
    ds = build(split='test', indices=20)
    assert len(ds) == 20
    item = ds[3]
    assert item['img'].shape == (32, 32, 3) and item['img'].dtype == np.uint8
    assert 0 <= item['gt_label'] < 10
    assert ds.metainfo['classes'][0] == 'airplane'


@pytest.mark.parametrize('inner', [False, True])
def test_explicit_data_root_reads_the_official_release(tmp_path, monkeypatch, no_standard_places,
                                                       inner):
    patch_official_md5s(monkeypatch.setattr, write_fake_release(tmp_path / 'mine'))
    root = tmp_path / 'mine' / cifar10.OFFICIAL_FOLDER if inner else tmp_path / 'mine'
    assert_is_fake_release(build(data_root=str(root), split='train'), 'train')
    assert_is_fake_release(build(data_root=str(root), split='test'), 'test')


def test_explicit_data_root_is_the_only_place(tmp_path, monkeypatch, no_standard_places):
    work, _ = no_standard_places
    patch_official_md5s(monkeypatch.setattr, write_fake_release(work / 'data' / 'cifar10'))
    with pytest.raises(DataNotFoundError, match='data_root') as err:
        build(data_root=str(tmp_path / 'nope'))
    assert 'data/cifar10 (' not in str(err.value)  # not silently taken from elsewhere


def test_data_cifar10_under_the_working_dir_wins_over_shared(tmp_path, monkeypatch,
                                                             no_standard_places):
    work, shared = no_standard_places
    patch_official_md5s(monkeypatch.setattr, write_fake_release(work / 'data' / 'cifar10'))
    write_jpeg_edition(shared / 'data' / 'cifar10')
    assert_is_fake_release(build(split='train'))


def test_data_cifar10_in_the_jpeg_layout(no_standard_places):
    work, _ = no_standard_places
    write_jpeg_edition(work / 'data' / 'cifar10')
    ds = build(split='test')
    assert ds.layout == 'jpeg' and len(ds) == 6
    assert ds[3]['gt_label'] == 3 and abs(int(ds[3]['img'].mean()) - 60) <= 2


def test_bigfix_shared_is_used_when_data_cifar10_is_absent(monkeypatch, no_standard_places):
    _, shared = no_standard_places
    patch_official_md5s(monkeypatch.setattr, write_fake_release(shared / 'data' / 'cifar10'))
    assert_is_fake_release(build(split='test'), 'test')


def test_repo_sibling_shared_is_the_default(tmp_path, monkeypatch, no_standard_places):
    monkeypatch.delenv('BIGFIX_SHARED')
    monkeypatch.setattr(paths, 'REPO_ROOT', tmp_path / 'clone')
    write_jpeg_edition(tmp_path / 'shared' / 'data' / 'cifar10')
    assert build(split='train').layout == 'jpeg'


def test_a_batch_with_the_wrong_md5_is_never_unpickled(tmp_path, monkeypatch, no_standard_places):
    work, _ = no_standard_places
    root = work / 'data' / 'cifar10'
    patch_official_md5s(monkeypatch.setattr, write_fake_release(root))
    batch = root / cifar10.OFFICIAL_FOLDER / 'data_batch_1'
    raw = bytearray(batch.read_bytes())
    raw[-20] ^= 1  # one flipped bit in the pixel data
    batch.write_bytes(bytes(raw))
    loads = []
    real_load = cifar10._NumpyOnlyUnpickler.load
    monkeypatch.setattr(cifar10._NumpyOnlyUnpickler, 'load',
                        lambda self: loads.append(1) or real_load(self))
    with pytest.raises(InputError, match='data_batch_1 has MD5') as err:
        build(split='train')
    assert loads == []
    assert 'download the release again' in str(err.value)
    assert build(split='test').layout == 'official'  # an intact split still loads
    assert loads == [1]


def test_only_numpy_arrays_are_unpickled_even_with_a_matching_md5(tmp_path, monkeypatch):
    md5s = write_fake_release(tmp_path)
    batch = tmp_path / cifar10.OFFICIAL_FOLDER / 'test_batch'
    evil = pickle.dumps({'data': os.system, 'labels': []})
    batch.write_bytes(evil)
    md5s['test_batch'] = hashlib.md5(evil).hexdigest()
    patch_official_md5s(monkeypatch.setattr, md5s)
    with pytest.raises(pickle.UnpicklingError, match='posix.system|os.system|not allowed'):
        build(data_root=str(tmp_path), split='test')


class _FakeResponse(io.BytesIO):
    def __init__(self, url, payload):
        super().__init__(payload)
        self.url, self.length = url, len(payload)


def serve(monkeypatch, payload=None):
    """Route torchvision's downloads to ``payload`` (None: offline, every request fails)."""
    requests = []

    def urlopen(request, *args, **kwargs):
        url = getattr(request, 'full_url', request)
        requests.append(url)
        if payload is None:
            raise urllib.error.URLError('[Errno -3] Temporary failure in name resolution')
        return _FakeResponse(url, payload)

    monkeypatch.setattr(urllib.request, 'urlopen', urlopen)
    return requests


def test_download_through_torchvision_with_its_archive_checksum(monkeypatch, no_standard_places):
    from torchvision.datasets import CIFAR10
    work, _ = no_standard_places
    md5s = {}
    tarball = release_tarball(md5s)
    patch_official_md5s(monkeypatch.setattr, md5s)
    monkeypatch.setattr(CIFAR10, 'tgz_md5', hashlib.md5(tarball).hexdigest())
    requests = serve(monkeypatch, tarball)
    assert_is_fake_release(build(split='train', download=True))
    assert requests and requests[-1] == CIFAR10.url
    assert (work / 'data' / 'cifar10' / cifar10.OFFICIAL_FOLDER / 'data_batch_5').is_file()
    count = len(requests)
    assert_is_fake_release(build(split='test', download=True), 'test')  # found, not downloaded
    assert len(requests) == count


def test_a_download_with_the_wrong_archive_checksum_is_refused(monkeypatch, no_standard_places):
    work, _ = no_standard_places
    tarball = release_tarball({})
    serve(monkeypatch, tarball)  # torchvision's real archive MD5 does not match the fake
    with pytest.raises(DataNotFoundError, match='corrupted'):
        build(split='train', download=True)
    assert not (work / 'data' / 'cifar10' / cifar10.OFFICIAL_FOLDER).exists()


def test_offline_error_lists_every_place_and_the_fix(tmp_path, no_standard_places, monkeypatch):
    work, shared = no_standard_places
    requests = serve(monkeypatch, None)
    with pytest.raises(DataNotFoundError) as err:
        build(split='train', download=True)
    msg = str(err.value)
    assert requests  # the download was attempted
    lines = msg.splitlines()
    assert "'train' split not found" in lines[0]
    assert f'data/cifar10 ({work / "data" / "cifar10"}): no such folder' in msg
    assert f'$BIGFIX_SHARED/data/cifar10 ({shared / "data" / "cifar10"})' in msg
    assert 'download of the official release' in msg and 'URLError' in msg
    assert lines[-1].startswith('Fix: ') and 'download=True' in lines[-1]
    assert 'tar xz -C data/cifar10' in lines[-1]


def test_without_download_the_error_says_download_is_off(no_standard_places):
    with pytest.raises(DataNotFoundError, match=r'download: off \(download=False\)'):
        build(split='test')


def test_bad_split_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="split='val'"):
        build(data_root=str(tmp_path), split='val')
