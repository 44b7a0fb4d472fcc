"""The video path of the tools: token extraction, sampling to MP4 / GIF, evaluation."""
import json
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config

from bigfix_mm.datasets import SyntheticMovingShapes, TokenDataset
from bigfix_mm.engine.config_checks import resolve_config
from bigfix_mm.engine.launch import build_runner
from bigfix_mm.models.tokenizers import PerFrameTokenizer, RGBQuantTokenizer
from bigfix_mm.utils.video import read_video
from ..conftest import REPO, load_tool

CONFIG = REPO / 'configs' / 'bigfix_synthetic_video.py'


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
    assert tool.main([str(config), str(ckpt), '--samplers', 'halton', 'halton-fix-all',
                      '--steps', '2', '--num', '4', '--context-frames', '2', '--no-fd',
                      '--device', 'cpu', '--out', str(tmp_path)]) == 0
    rows = json.loads((tmp_path / 'results.json').read_text())['rows']
    assert [r['setting'] for r in rows] == ['tokenized real clips', 'halton', 'halton-fix-all']
    assert all(r['context_kept'] for r in rows[1:])
    assert {'id_switch_rate', 'pos_jump_rate', 'consistent_clip_rate'} <= set(rows[1])
    assert (tmp_path / 'results.md').is_file() and (tmp_path / 'halton_s2.png').is_file()


@pytest.mark.parametrize('name', ['bigfix_ucf101', 'bigfix_nuscenes', 'bigfix_synthetic_video'])
def test_video_configs_agree_and_build(name):
    from bigfix_mm.registry import MODELS
    cfg = resolve_config(Config.fromfile(str(REPO / 'configs' / f'{name}.py')))
    tr = cfg.model.transformer
    dataset = cfg.train_dataloader.dataset
    if dataset.type == 'TokenDataset':
        assert tuple(dataset.grid) == tuple(tr.grid) and dataset.num_classes == tr.num_classes
        assert cfg.model.tokenizer.type == 'PerFrameTokenizer' and set(cfg.extract_datasets)
    assert len(tr.grid) == 3 and tr.grid[0] > 1
    model_cfg = cfg.model.to_dict()
    model_cfg.update(tokenizer=None)  # the VQ weights are user-supplied
    model_cfg['transformer'].update(size=None, width=16, depth=1, heads=2)
    model = MODELS.build(model_cfg)
    assert model.grid == tuple(tr.grid)
