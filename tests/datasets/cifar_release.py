"""A small fake of CIFAR-10's official python release, for tests.

``write_fake_release`` writes ``cifar-10-batches-py/`` in the official format
(pickled dicts with ``data`` (n, 3072) uint8 and ``labels``) and returns the
files' MD5s; ``patch_official_md5s`` makes torchvision's published list expect
them. Run as a module, it does the patch in a fresh process and then runs a tool:

    python -m tests.datasets.cifar_release MD5_JSON tools/train.py CONFIG ...
"""
import hashlib
import io
import json
import pickle
import runpy
import sys
import tarfile
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from bigfix_mm.datasets.cifar10 import OFFICIAL_FOLDER, SPLIT_FILES


def fake_images(name: str, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """(n, 32, 32, 3) uint8 images and (n,) labels, different for every file name."""
    rng = np.random.default_rng(sum(name.encode()))
    return (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
            (np.arange(n) + len(name)) % 10)


def write_fake_release(root: Path, per_batch: int = 4) -> Dict[str, str]:
    """Write ``root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``;
    return file name -> MD5."""
    folder = Path(root) / OFFICIAL_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    md5s = {}
    for name in SPLIT_FILES['train'] + SPLIT_FILES['test']:
        images, labels = fake_images(name, per_batch)
        batch = {'batch_label': name, 'labels': labels.tolist(),
                 'data': images.transpose(0, 3, 1, 2).reshape(per_batch, -1),
                 'filenames': [f'{name}_{i}.png' for i in range(per_batch)]}
        raw = pickle.dumps(batch, protocol=2)
        (folder / name).write_bytes(raw)
        md5s[name] = hashlib.md5(raw).hexdigest()
    (folder / 'batches.meta').write_bytes(pickle.dumps({'label_names': ['x'] * 10}))
    return md5s


def release_tarball(md5s_out: Dict[str, str], per_batch: int = 4) -> bytes:
    """The fake release as ``cifar-10-python.tar.gz`` bytes; its files' MD5s go to ``md5s_out``."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        md5s_out.update(write_fake_release(Path(tmp), per_batch))
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w:gz') as tar:
            tar.add(Path(tmp) / OFFICIAL_FOLDER, arcname=OFFICIAL_FOLDER)
    return buf.getvalue()


def patch_official_md5s(setattr_fn, md5s: Dict[str, str]) -> None:
    """Make torchvision's CIFAR10 md5 lists expect ``md5s`` (``setattr_fn``:
    ``monkeypatch.setattr`` in tests, ``setattr`` in a child process)."""
    from torchvision.datasets import CIFAR10
    setattr_fn(CIFAR10, 'train_list', [[n, md5s[n]] for n in SPLIT_FILES['train']])
    setattr_fn(CIFAR10, 'test_list', [[n, md5s[n]] for n in SPLIT_FILES['test']])


if __name__ == '__main__':
    patch_official_md5s(setattr, json.loads(Path(sys.argv[1]).read_text()))
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name='__main__')
