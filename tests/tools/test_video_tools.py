"""The video path of the tools: token extraction, sampling to MP4 / GIF, evaluation."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from bigfix_mm.datasets import SyntheticMovingShapes, TokenDataset
from bigfix_mm.engine.config_checks import resolve_config
from bigfix_mm.engine.launch import build_runner
from bigfix_mm.models.tokenizers import PerFrameTokenizer, RGBQuantTokenizer
from bigfix_mm.visualization.video import read_video
from tests.conftest import REPO, load_tool

CONFIG = REPO / 'configs' / 'bigfix' / 'bigfix_synthetic_video.py'


def test_extract_tokens_writes_token_volumes(tmp_path):
    tool = load_tool('extract_tokens')
    tokenizer = PerFrameTokenizer(RGBQuantTokenizer(levels=4, downsample=4))
    dataset = SyntheticMovingShapes(num_samples=10, num_frames=4, split='val')
    desc = dict(tokenizer=dict(type='PerFrameTokenizer'), dataset=dict(type='SyntheticMovingShapes'),
                split='val')
    tool.extract(tokenizer, dataset, tmp_path, desc, flip=True, batch_size=4, chunk_size=6,
                 progress=False)
    tokens = np.load(tmp_path / 'tokens.npy')
    assert tokens.shape == (20, 4, 8, 8) and tokens.dtype == np.uint16
    assert np.array_equal(tokens[3], tokens[2][..., ::-1])  # mirrored clip (RGBQuant commutes)
    assert tool.verify(tokenizer, dataset, tmp_path, num=4)['ok']
    ds = TokenDataset(str(tmp_path), codebook_size=64, grid=(4, 8, 8), num_classes=6)
    assert ds[0]['tokens'].shape == (4, 8, 8) and ds[0]['gt_label'] == dataset[0]['gt_label']


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    work = tmp_path_factory.mktemp('video')
    cfg = Config.fromfile(str(CONFIG))
    cfg.work_dir = str(work)
    cfg.model.transformer.update(width=16, depth=1, heads=2)
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.train_dataloader.batch_size = 4
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.num_samples = 8
    cfg.default_hooks.checkpoint.interval = 2
    cfg.custom_hooks[0].update(interval=2, num_samples=2)
    cfg.param_scheduler = []
    cfg.log_level = 'WARNING'
    build_runner(cfg).train()
    assert (work / 'samples' / 'iter_2.png').is_file()  # the hook's video grids
    return work / 'bigfix_synthetic_video.py', work / 'iter_2.pth'


@pytest.mark.slow  # a real tool process, over 10 s
def test_sample_tool_writes_videos_and_keeps_context(checkpoint, tmp_path):
    config, ckpt = checkpoint
    cmd = [sys.executable, str(REPO / 'tools' / 'sample.py'), str(config), str(ckpt), '--num', '3',
           '--steps', '3', '--device', 'cpu', '--context-frames', '2', '--formats', 'mp4', 'gif',
           '--scale', '2', '--out', str(tmp_path)]
    subprocess.run(cmd, check=True, cwd=REPO, capture_output=True)
    assert len(list(tmp_path.glob('0*.mp4'))) == 3 and len(list(tmp_path.glob('0*.gif'))) == 3
    assert read_video(next(tmp_path.glob('0*.mp4'))).shape == (8, 64, 64, 3)
    assert (tmp_path / 'grid.png').is_file() and (tmp_path / 'grid.gif').is_file()


def test_eval_video_reports_consistency_and_kept_context(checkpoint, tmp_path):
    config, ckpt = checkpoint
    tool = load_tool('eval_video')
    assert tool.main([str(config), str(ckpt), '--samplers', 'halton', 'fix_all',
                      '--steps', '2', '--num', '4', '--context-frames', '2', '--no-fd',
                      '--real-split', 'val', '--device', 'cpu', '--out', str(tmp_path)]) == 0
    result = json.loads((tmp_path / 'results.json').read_text())
    rows, meta = result['rows'], result['meta']
    assert [r['setting'] for r in rows] == ['real clips (test)', 'tokenizer floor (test '
                                            'reconstructions)', 'halton', 'fix_all']
    assert meta['real_split'] == 'val' and meta['frames_left_out'] == 2
    assert all(r['context_kept'] for r in rows[2:])
    assert rows[0]['consistent_clip_rate'] == 1  # real clips read from the raw set
    assert {'id_switch_rate', 'pos_jump_rate', 'consistent_clip_rate'} <= set(rows[2])
    assert (tmp_path / 'results.md').is_file() and (tmp_path / 'halton_s2.png').is_file()


def test_eval_video_reference_is_the_raw_train_split_balanced_over_classes(checkpoint, tmp_path):
    config, ckpt = checkpoint
    cfg = Config.fromfile(str(config))
    cfg.train_dataloader.dataset.num_samples = 600  # smaller splits: quicker to index
    cfg.test_dataloader.dataset.num_samples = 96
    cfg.dump(str(tmp_path / 'config.py'))
    tool = load_tool('eval_video')
    assert tool.main([str(tmp_path / 'config.py'), str(ckpt), '--samplers', 'halton', '--steps',
                      '2', '--num', '12', '--device', 'cpu', '--no-fd',
                      '--out', str(tmp_path)]) == 0
    result = json.loads((tmp_path / 'results.json').read_text())
    meta, rows = result['meta'], result['rows']
    assert meta['real_split'] == 'train' and meta['ref_split'] == 'test'  # not the scored split
    assert meta['real_clips_per_class'] == [2, 2]  # 12 clips, 6 classes, as the generated labels
    train = SyntheticMovingShapes(num_samples=600, num_frames=8, split='train')
    picked = [train.describe(i)['gt_label'] for i in meta['real_indices']]
    assert picked == [i % 6 for i in range(12)]
    assert max(meta['real_indices']) > 400  # spread over the split, not its first clips
    assert [r['setting'] for r in rows] == ['real clips (test)',
                                            'tokenizer floor (test reconstructions)', 'halton']
    assert rows[0]['consistent_clip_rate'] == 1  # raw clips, not reconstructions


def test_eval_video_refuses_fvd_off_16_frames_and_unnamed_context_split(checkpoint, tmp_path):
    config, ckpt = checkpoint
    tool = load_tool('eval_video')
    i3d = tmp_path / 'i3d.pt'
    i3d.write_bytes(b'not opened: the length check comes first')
    args = [str(config), str(ckpt), '--steps', '2', '--num', '4', '--no-fd', '--device', 'cpu',
            '--out', str(tmp_path / 'out')]
    with pytest.raises(ValueError, match='FVD needs 16-frame clips; these clips score 8 frames'):
        tool.main(args + ['--i3d', str(i3d)])
    with pytest.raises(ValueError, match=r'score 6 frames \(8-frame clips with 2 given'):
        tool.main(args + ['--i3d', str(i3d), '--context-frames', '2', '--real-split', 'val'])
    assert not list((tmp_path / 'out').glob('*.png'))  # refused before sampling
    with pytest.raises(SystemExit):
        tool.main(args + ['--context-frames', '2'])  # which clips to continue is not guessed


def test_frame_prediction_validation_gives_context_and_scores_the_rest():
    from mmengine.dataset import default_collate
    from bigfix_mm.core.context import frame_context_mask
    from bigfix_mm.registry import DATASETS, MODELS
    cfg = resolve_config(Config.fromfile(str(CONFIG)))
    assert cfg.model.context_frames == cfg.context_frames == (0, 2)
    cfg.val_dataloader.dataset.num_samples = 12
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    batch = default_collate([dataset[i] for i in range(12)])
    context_mask = batch['inputs']['context_mask'].flatten(1)  # (B, N), drawn per clip
    ks = context_mask.view(12, 8, 64)[:, :, 0].sum(1)
    assert set(ks.tolist()) == {0, 1, 2}
    assert torch.equal(context_mask, frame_context_mask(cfg.model.transformer.grid, ks))
    assert not (batch['inputs']['masked'].flatten(1) & context_mask).any()
    assert not (batch['inputs']['injected'].flatten(1) & context_mask).any()
    again = default_collate([dataset[i] for i in range(12)])
    assert torch.equal(again['inputs']['context_mask'], batch['inputs']['context_mask'])  # seeded
    model_cfg = cfg.model.to_dict()
    model_cfg['transformer'].update(width=16, depth=1, heads=2)
    model = MODELS.build(model_cfg).eval()
    stats = model.val_step(batch)
    inputs = model.data_preprocessor(batch, False)['inputs']
    logits = model.transformer(inputs['input_ids'].flatten(1), inputs['labels'])
    ce = torch.nn.functional.cross_entropy(logits.flatten(0, 1), inputs['target'].flatten(),
                                           reduction='none').view(12, -1)
    for i, s in enumerate(stats):
        assert int(s.num_tokens) == 512 - 64 * int(ks[i])
        assert torch.allclose(s.ce_sum, ce[i][~context_mask[i]].sum(), rtol=1e-4)
    del batch['inputs']['context_mask']
    with pytest.raises(ValueError, match="gives no frames.*ContextFrames"):
        model.val_step(batch)


@pytest.mark.parametrize('name', ['bigfix_ucf101', 'bigfix_nuscenes', 'bigfix_synthetic_video'])
def test_video_configs_agree_and_build(name):
    from bigfix_mm.registry import MODELS
    cfg = resolve_config(Config.fromfile(str(REPO / 'configs' / 'bigfix' / f'{name}.py')))
    tr = cfg.model.transformer
    dataset = cfg.train_dataloader.dataset
    if dataset.type == 'TokenDataset':
        assert tuple(dataset.grid) == tuple(tr.grid) and dataset.num_classes == tr.num_classes
        assert cfg.model.tokenizer.type == 'PerFrameTokenizer' and set(cfg.extract_datasets)
    val_types = [t.type for t in cfg.val_dataloader.dataset.pipeline]
    if cfg.model.get('context_frames') is not None:  # frame prediction: validation gives frames
        given = cfg.val_dataloader.dataset.pipeline[val_types.index('ContextFrames')]
        assert tuple(given.frame_range) == tuple(cfg.model.context_frames)
        assert val_types.index('ContextFrames') < val_types.index('RandomTokenInjection')
    else:
        assert 'ContextFrames' not in val_types
    assert len(tr.grid) == 3 and tr.grid[0] > 1
    model_cfg = cfg.model.to_dict()
    model_cfg.update(tokenizer=None)  # the VQ weights are user-supplied
    model_cfg['transformer'].update(size=None, width=16, depth=1, heads=2)
    model = MODELS.build(model_cfg)
    assert model.grid == tuple(tr.grid)
