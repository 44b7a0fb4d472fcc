"""Resumable extraction of tokens into the :class:`TokenDataset` layout, and its check.

:func:`extract` encodes a dataset's images (or clips) with a tokenizer in chunks;
each finished chunk is flushed and recorded in ``progress.json``, so a killed run
started again with the same arguments skips the finished chunks and produces the
same file. :func:`verify` decodes extracted rows and compares them with the
tokenizer's own reconstruction of the source images. ``tools/extract_tokens.py``
is the command-line front end.
"""
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from torch.utils.data import DataLoader

from bigfix_mm.core.files import write_text_atomic
from bigfix_mm.datasets.token_dataset import PROGRESS, token_dtype, write_token_meta
from bigfix_mm.datasets.video import item_pixels
from bigfix_mm.errors import OutputExistsError

# top-level keys of an extraction config (tools/extract_tokens.py): the tokenizer, the datasets
EXTRACT_KEYS = ('tokenizer', 'extract_datasets')


# ------------------------------------------------------------------ extraction
def _collate(items: List[dict]):
    imgs = [np.asarray(item_pixels(item), dtype=np.uint8) for item in items]  # img or video frames
    shapes = {img.shape for img in imgs}
    if len(shapes) != 1 or len(imgs[0].shape) not in (3, 4) or imgs[0].shape[-1] != 3:
        raise ValueError(f'extraction needs (H, W, 3) images of one size, got shapes {sorted(shapes)}: '
                         "add dict(type='CenterCropResize', size=...) to the dataset pipeline.")
    labels = torch.tensor([int(item.get('gt_label', 0)) for item in items], dtype=torch.long)
    return torch.from_numpy(np.stack(imgs)), labels  # (B, H, W, 3) uint8, (B,)


def encode_batch(tokenizer, imgs: torch.Tensor, flip: bool, device: str) -> torch.Tensor:
    """(B, H, W, 3) uint8 -> (B, h, w) ids, or (2B, h, w) interleaved with the mirrored images."""
    x = imgs.to(device).movedim(-1, -3).float() / 255.0  # (B, 3, H, W), clips (B, T, 3, H, W)
    if not flip:
        return tokenizer.encode(x)
    ids = tokenizer.encode(torch.cat([x, x.flip(-1)]))  # (2B, h, w): originals, then mirrors
    b = x.shape[0]
    return torch.stack([ids[:b], ids[b:]], dim=1).flatten(0, 1)  # row 2i, 2i+1


def _fingerprint(description: dict, **extra) -> str:
    desc = dict(description, **extra)
    ckpt = desc['tokenizer'].get('checkpoint')
    if ckpt and Path(ckpt).is_file():
        desc['checkpoint_bytes'] = Path(ckpt).stat().st_size
    return hashlib.sha256(json.dumps(desc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _write_json(path: Path, obj: dict) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2))


def extract(tokenizer,
            dataset,
            out_dir: str | Path,
            description: dict,
            flip: bool = False,
            batch_size: int = 64,
            chunk_size: int = 4096,
            device: str = 'cpu',
            num_workers: int = 0,
            overwrite: bool = False,
            progress: bool = True,
            after_chunk: Optional[Callable[[int], None]] = None,
            command: Optional[str] = None) -> Dict[str, float]:
    """Encode ``dataset`` into ``out_dir`` (resumable); returns timing statistics.

    ``after_chunk(c)`` is called after chunk ``c`` is recorded (tests use it to
    interrupt a run). ``command``, the command line running the extraction, is kept
    in ``progress.json`` until the end, so that a dataset built on the unfinished
    folder says how to resume it.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_images = len(dataset)
    if n_images == 0:
        raise ValueError('the extraction dataset is empty')
    if chunk_size < 1 or batch_size < 1:
        raise ValueError(f'--chunk-size={chunk_size} and --batch-size={batch_size} must be >= 1')
    from bigfix_mm.datasets.video import item_pixels, token_grid_of
    first = item_pixels(dataset[0])  # (H, W, 3) image or (T, H, W, 3) clip
    height, width = first.shape[-3:-1]
    grid = token_grid_of(tokenizer, first.shape)
    k = int(tokenizer.codebook_size)
    dtype = token_dtype(k)  # uint16 / int32 / uint32 (32-bit LFQ ids) / int64
    copies = 2 if flip else 1
    rows = n_images * copies
    fingerprint = _fingerprint(description, flip=flip, chunk_size=chunk_size, n_images=n_images,
                               grid=grid, dtype=np.dtype(dtype).name)
    n_chunks = math.ceil(n_images / chunk_size)

    meta_path, progress_path = out / 'meta.json', out / PROGRESS
    if meta_path.is_file() and not overwrite:
        meta = json.loads(meta_path.read_text())
        if meta.get('extraction', {}).get('fingerprint') == fingerprint:
            print(f'{out}: extraction already complete ({rows} rows); nothing to do.')
            return dict(images=0, seconds=0.0, images_per_s=float('nan'))
        raise OutputExistsError(f'{out} already holds a finished extraction with other '
                                'settings; choose another --out or pass --overwrite.')
    done: List[int] = []
    state = json.loads(progress_path.read_text()) if progress_path.is_file() else None
    if state is not None and state.get('fingerprint') != fingerprint and not overwrite:
        raise OutputExistsError(
            f'{progress_path} belongs to an unfinished extraction with other settings (config, '
            'split, --flip, --chunk-size or --limit differ); resume with the same arguments, '
            'choose another --out, or pass --overwrite.')
    if state is not None and state.get('fingerprint') == fingerprint and not overwrite:
        tokens = np.lib.format.open_memmap(out / 'tokens.npy', mode='r+')
        labels = np.lib.format.open_memmap(out / 'labels.npy', mode='r+')
        if tokens.shape != (rows, *grid) or tokens.dtype != dtype or labels.shape != (rows, ):
            raise ValueError(f'{out}/tokens.npy has shape {tokens.shape} {tokens.dtype}, expected '
                             f'{(rows, *grid)} {np.dtype(dtype)}: the folder was altered; use --overwrite.')
        done = sorted(int(c) for c in state.get('done', []))
    else:
        meta_path.unlink(missing_ok=True)
        tokens = np.lib.format.open_memmap(out / 'tokens.npy', mode='w+', dtype=dtype,
                                           shape=(rows, *grid))
        labels = np.lib.format.open_memmap(out / 'labels.npy', mode='w+', dtype=np.int32,
                                           shape=(rows, ))
        _write_json(progress_path, dict(fingerprint=fingerprint, n_chunks=n_chunks, done=[],
                                        command=command))

    todo = [c for c in range(n_chunks) if c not in set(done)]
    batches, batch_chunk = [], []
    for c in todo:
        idx = list(range(c * chunk_size, min((c + 1) * chunk_size, n_images)))
        for start in range(0, len(idx), batch_size):
            batches.append(idx[start:start + batch_size])
            batch_chunk.append(c)
    loader = DataLoader(dataset, batch_sampler=batches, num_workers=num_workers,
                        collate_fn=_collate)
    remaining = {c: sum(1 for bc in batch_chunk if bc == c) for c in todo}
    tokenizer = tokenizer.to(device).eval()
    bar = None
    if progress:
        from tqdm import tqdm
        finished = sum(min(chunk_size, n_images - c * chunk_size) for c in done)
        bar = tqdm(total=n_images, initial=finished, unit='img', desc='extracting', smoothing=0.05)
    processed, start_time = 0, time.perf_counter()
    try:
        for batch_idx, (imgs, batch_labels) in zip(range(len(batches)), loader):
            first = batches[batch_idx][0]
            with torch.inference_mode():
                ids = encode_batch(tokenizer, imgs, flip, device)  # (B * copies, h, w)
            r0, r1 = first * copies, (first + len(imgs)) * copies
            tokens[r0:r1] = ids.cpu().numpy().astype(dtype)
            labels[r0:r1] = batch_labels.repeat_interleave(copies).numpy()
            processed += len(imgs)
            if bar is not None:
                bar.update(len(imgs))
            c = batch_chunk[batch_idx]
            remaining[c] -= 1
            if remaining[c] == 0:
                tokens.flush()
                labels.flush()
                done.append(c)
                _write_json(progress_path, dict(fingerprint=fingerprint, n_chunks=n_chunks,
                                                done=sorted(done), command=command))
                if after_chunk is not None:
                    after_chunk(c)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start_time
    tokens.flush()
    labels.flush()
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    num_classes = len(classes) if classes else int(np.max(labels)) + 1
    del tokens, labels
    write_token_meta(out, codebook_size=k, grid=list(grid), num_classes=num_classes,
                     tokenizer=description['tokenizer'].get('type'), num_samples=rows,
                     flip=flip, image_size=[int(height), int(width)],
                     extraction=dict(fingerprint=fingerprint, split=description['split'],
                                     tokenizer_cfg=description['tokenizer'],
                                     dataset_cfg=description['dataset'],
                                     layout='row 2i = image i, row 2i+1 = its mirror' if flip else
                                     'row i = image i'))
    progress_path.unlink(missing_ok=True)
    return dict(images=processed, seconds=seconds,
                images_per_s=processed / seconds if seconds > 0 else float('nan'))


# ---------------------------------------------------------------- verification
@torch.inference_mode()
def verify(tokenizer, dataset, out_dir: str | Path, num: int = 8, device: str = 'cpu',
           min_agreement: float = 0.99) -> Dict[str, float]:
    """Decode ``num`` extracted rows and compare with ``decode(encode(image))``.

    Returns ``agreement`` (share of equal ids on re-encoding), ``max_abs_diff``
    (largest pixel difference between the two reconstructions over rows whose
    ids agree exactly) and ``ok``. Labels must match the dataset's.
    """
    out = Path(out_dir)
    meta = json.loads((out / 'meta.json').read_text())
    tokens = np.load(out / 'tokens.npy', mmap_mode='r')
    labels = np.load(out / 'labels.npy', mmap_mode='r')
    copies = 2 if meta.get('flip') else 1
    rows = sorted(set(np.linspace(0, len(tokens) - 1, num=min(num, len(tokens))).round().astype(int)))
    items = [dataset[r // copies] for r in rows]
    for r, item in zip(rows, items):
        if int(labels[r]) != int(item.get('gt_label', 0)):
            raise ValueError(f'{out}/labels.npy row {r} = {int(labels[r])} but the dataset says '
                             f"{item.get('gt_label')}")
    imgs, _ = _collate(items)
    x = imgs.to(device).movedim(-1, -3).float() / 255.0
    mirrored = torch.tensor([r % copies == 1 for r in rows], device=device)
    x = torch.where(mirrored.view(-1, *[1] * (x.dim() - 1)), x.flip(-1), x)
    tokenizer = tokenizer.to(device).eval()
    own_ids = tokenizer.encode(x)
    stored = torch.from_numpy(np.asarray(tokens[rows], dtype=np.int64)).to(device)
    own_rec, stored_rec = tokenizer.decode(own_ids), tokenizer.decode(stored)
    same = (own_ids == stored).flatten(1).all(1)
    agreement = float((own_ids == stored).float().mean())
    diff = (own_rec - stored_rec).abs().flatten(1).amax(1)  # (n,)
    max_diff = float(diff[same].max()) if bool(same.any()) else float('inf')
    ok = agreement >= min_agreement and max_diff <= 1e-5
    return dict(rows=len(rows), agreement=agreement, max_abs_diff=max_diff, ok=ok)
