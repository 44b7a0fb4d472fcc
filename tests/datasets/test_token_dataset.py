import json

import numpy as np
import pytest
import torch

from bigfix_mm.datasets.token_dataset import write_token_meta
from bigfix_mm.registry import DATASETS


def make_tokens(root, n=10, grid=(4, 4), k=16, dtype=np.uint16, **meta_over):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    np.save(root / 'tokens.npy', rng.integers(0, k, (n, *grid)).astype(dtype))
    np.save(root / 'labels.npy', rng.integers(0, 3, n))
    meta = dict(codebook_size=k, grid=list(grid), num_classes=3, tokenizer='test', num_samples=n)
    meta.update(meta_over)
    write_token_meta(root, **meta)
    return root


def build(root, **kw):
    cfg = dict(type='TokenDataset', data_root=str(root), codebook_size=16, grid=(4, 4),
               num_classes=3)
    cfg.update(kw)
    return DATASETS.build(cfg)


def test_loads_memory_mapped_tokens(tmp_path):
    ds = build(make_tokens(tmp_path / 'd'))
    assert len(ds) == 10
    item = ds[2]
    assert item['tokens'].shape == (1, 4, 4) and item['tokens'].dtype == torch.int64
    assert isinstance(ds.tokens, np.memmap)


def test_pipeline_injection_and_pack(tmp_path):
    ds = build(make_tokens(tmp_path / 'd'), pipeline=[
        dict(type='RandomTokenInjection', codebook_size=16, seed=0),
        dict(type='PackTokenInputs')
    ])
    inputs = ds[0]['inputs']
    assert set(inputs) >= {'input_ids', 'masked', 'injected', 'target', 'labels'}
    assert inputs['input_ids'].shape == (1, 4, 4)
    assert torch.equal(ds[0]['inputs']['input_ids'], inputs['input_ids'])  # seeded per sample


def test_codebook_mismatch_names_the_field(tmp_path):
    root = make_tokens(tmp_path / 'd', k=32)
    with pytest.raises(ValueError, match='codebook_size'):
        build(root)


def test_grid_mismatch(tmp_path):
    with pytest.raises(ValueError, match='grid'):
        build(make_tokens(tmp_path / 'd'), grid=(8, 8))


def test_out_of_range_ids_rejected(tmp_path):
    root = make_tokens(tmp_path / 'd')
    tokens = np.load(root / 'tokens.npy')
    tokens[7, 0, 0] = 16
    np.save(root / 'tokens.npy', tokens)
    with pytest.raises(ValueError, match='out of range'):
        build(root)


def test_float_tokens_rejected(tmp_path):
    root = make_tokens(tmp_path / 'd', dtype=np.float32)
    with pytest.raises(TypeError, match='dtype'):
        build(root)


def test_truncated_arrays_rejected(tmp_path):
    root = make_tokens(tmp_path / 'd')
    np.save(root / 'labels.npy', np.zeros(7, dtype=np.int64))
    with pytest.raises(ValueError, match='labels.npy'):
        build(root)
    root2 = make_tokens(tmp_path / 'e')
    raw = (root2 / 'tokens.npy').read_bytes()
    (root2 / 'tokens.npy').write_bytes(raw[:len(raw) // 2])
    with pytest.raises(ValueError, match='truncated'):
        build(root2)


def test_missing_file_is_named(tmp_path):
    root = make_tokens(tmp_path / 'd')
    (root / 'meta.json').unlink()
    with pytest.raises(FileNotFoundError, match='meta.json'):
        build(root)


def test_negative_ids_rejected(tmp_path):
    root = make_tokens(tmp_path / 'd', dtype=np.int32)
    tokens = np.load(root / 'tokens.npy')
    tokens[3, 1, 2] = -1
    np.save(root / 'tokens.npy', tokens)
    with pytest.raises(ValueError, match=r'out of range \[-1'):
        build(root)


def test_unfinished_extraction_rejected(tmp_path):
    root = make_tokens(tmp_path / 'd', num_samples=20)  # meta promises more rows than written
    with pytest.raises(ValueError, match='num_samples=20'):
        build(root)


def test_per_sample_shape_must_match_grid(tmp_path):
    root = make_tokens(tmp_path / 'd')
    np.save(root / 'tokens.npy', np.zeros((10, 16), dtype=np.uint16))  # flattened rows
    with pytest.raises(ValueError, match='per-sample shape'):
        build(root)


def test_class_count_mismatch_names_the_field(tmp_path):
    with pytest.raises(ValueError, match='num_classes'):
        build(make_tokens(tmp_path / 'd'), num_classes=10)


def test_labels_out_of_range_or_not_integer_rejected(tmp_path):
    root = make_tokens(tmp_path / 'd')
    np.save(root / 'labels.npy', np.array([0, 1, 2, 3, 0, 1, 2, 0, 1, 2]))  # 3 >= num_classes
    with pytest.raises(ValueError, match='label out of range'):
        build(root)
    np.save(root / 'labels.npy', np.zeros(10, dtype=np.float32))
    with pytest.raises(TypeError, match='labels.npy has dtype float32'):
        build(root)


def test_truncated_labels_file_is_named(tmp_path):
    root = make_tokens(tmp_path / 'd')
    raw = (root / 'labels.npy').read_bytes()
    (root / 'labels.npy').write_bytes(raw[:len(raw) - 20])
    with pytest.raises(ValueError, match='labels.npy is truncated'):
        build(root)


# tools/train.py on token files (the synthetic config's model: 64 codes, 8x8, 9 classes)
TOKEN_RUN = """
_base_ = ['{base}']
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(
    _delete_=True, type='TokenDataset', data_root='{root}',
    pipeline=[dict(type='RandomTokenInjection'), dict(type='PackTokenInputs')]))
log_level = 'WARNING'
"""


def _spoil(root, how: str) -> str:
    """Token files made wrong in one way; returns what the error must name."""
    if how == 'ids out of range':
        tokens = np.load(root / 'tokens.npy')
        tokens[3, 2, 1] = 64
        np.save(root / 'tokens.npy', tokens)
        return (f'{root}/tokens.npy (samples 0..): token id out of range [0, 64] for '
                'codebook_size=64')
    if how == 'wrong grid':
        make_tokens(root, n=8, grid=(4, 4), k=64, num_classes=9)
        return 'grid mismatch: meta.json grid=[4, 4] but the config expects grid=[8, 8]'
    if how == 'label out of range':
        np.save(root / 'labels.npy', np.arange(8) + 2)
        return f'label out of range [2, 9] in {root}/labels.npy for num_classes=9'
    if how == 'missing meta.json':
        (root / 'meta.json').unlink()
        return f'{root / "meta.json"} is missing'
    # a killed extraction: progress.json left, meta.json not written yet
    (root / 'meta.json').unlink()
    (root / 'progress.json').write_text(json.dumps(dict(
        fingerprint='x', n_chunks=4, done=[0, 1],
        command='python tools/extract_tokens.py cfg.py --split train --out data/t')))
    return (f'the token extraction into {root} did not finish (2 of 4 chunks done; meta.json '
            'is written at the end). Run the same command again to resume it: python '
            'tools/extract_tokens.py cfg.py --split train --out data/t')


@pytest.mark.parametrize('how', ['ids out of range', 'wrong grid', 'label out of range',
                                 'missing meta.json', 'unfinished extraction'])
def test_train_tool_prints_a_bad_token_file_as_one_block(how, tmp_path, capsys):
    from tests.conftest import SMALL_CONFIG, input_error_block, tool_exit_status
    root = make_tokens(tmp_path / 'tokens', n=8, grid=(8, 8), k=64, num_classes=9)
    np.save(root / 'labels.npy', np.arange(8))
    shown = _spoil(root, how)
    config = tmp_path / 'run.py'
    config.write_text(TOKEN_RUN.format(base=SMALL_CONFIG, root=root))
    work = tmp_path / 'work'
    assert tool_exit_status('train', [str(config), '--work-dir', str(work)]) == 2
    block = input_error_block(capsys.readouterr().err)
    assert shown in ' '.join(block.split()), block
    assert not list(work.rglob('*.pth'))
