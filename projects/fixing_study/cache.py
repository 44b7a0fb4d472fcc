"""Resumable results: every unit of work is stored under a hash of all its settings.

A unit (a sampled cell, its jackknife values, the references) is computed at
most once per distinct key: its result is written atomically (temporary file,
then ``os.replace``), so a study killed at any moment leaves either the whole
result or none, and a rerun computes only what is missing.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

import numpy as np


def key_hash(key: dict, length: int = 16) -> str:
    """Stable short hash of a JSON-able settings dict (key order does not matter)."""
    text = json.dumps(key, sort_keys=True, separators=(',', ':'), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def files_digest(paths: Iterable[str], length: int = 16) -> str:
    """Hash of the contents of ``paths`` (in the given order): a code or checkpoint version."""
    sha = hashlib.sha256()
    for path in paths:
        sha.update(osp.basename(path).encode())
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                sha.update(chunk)
    return sha.hexdigest()[:length]


def write_json(path: str, data) -> None:
    """Write JSON atomically."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def write_npz(path: str, **arrays: np.ndarray) -> None:
    """Write an uncompressed ``.npz`` atomically (no pickled objects)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp.{os.getpid()}.npz'
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def read_npz(path: str) -> Dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


class Store:
    """A folder of results named ``{kind}/{key_hash}.{json|npz}``.

    The JSON file stores the key next to the result, so a hash collision or a
    hand-edited file is detected instead of silently reused.
    """

    def __init__(self, root: str):
        self.root = root

    def path(self, kind: str, key: dict, ext: str = 'json') -> str:
        return osp.join(self.root, kind, f'{key_hash(key)}.{ext}')

    def get(self, kind: str, key: dict):
        path = self.path(kind, key)
        if not osp.isfile(path):
            return None
        with open(path) as f:
            stored = json.load(f)
        if stored.get('key') != json.loads(json.dumps(key, default=str)):
            return None
        return stored['result']

    def put(self, kind: str, key: dict, result) -> None:
        write_json(self.path(kind, key), dict(key=key, result=result))

    def get_or_compute(self, kind: str, key: dict, compute: Callable[[], object]):
        """The stored result of ``key``, or ``compute()`` stored first."""
        found = self.get(kind, key)
        if found is not None:
            return found
        result = compute()
        self.put(kind, key, result)
        return result


def run_all(store: Store, kind: str, units: Sequence[Tuple[dict, Callable[[], object]]],
            log: Callable[[str], None] = print) -> List[object]:
    """Compute every ``(key, compute)`` unit that ``store`` lacks, in order.

    Returns the results in the order of ``units``. Interrupting it loses at
    most the unit in progress.
    """
    results = []
    for i, (key, compute) in enumerate(units):
        cached = store.get(kind, key)
        if cached is None:
            log(f'[study] {kind} {i + 1}/{len(units)}: computing {key_hash(key)}')
            cached = compute()
            store.put(kind, key, cached)
        results.append(cached)
    return results
