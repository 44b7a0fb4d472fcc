import functools
import importlib.util
import itertools
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
# OMP_NUM_THREADS, when set, wins: on a loaded machine 2 spinning threads make small ops ~15x slower
torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS') or min(2, os.cpu_count() or 1)))

import bigfix_mm  # noqa: E402,F401  (registers everything)
from mmengine.config import Config  # noqa: E402
from bigfix_mm.engine import checkpoint  # noqa: E402
from bigfix_mm.engine.config_checks import resolve_config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from bigfix_mm.datasets.cifar10 import locate_cifar10  # noqa: E402
from bigfix_mm.datasets.paths import shared_dir  # noqa: E402
from bigfix_mm.errors import DataNotFoundError  # noqa: E402

# what tools/train.py and tools/test.py do before building a Runner (build_runner)
checkpoint.install()


def _remember_config_formatting() -> None:
    """MMEngine formats a config's text with yapf (about a second for ours) each time it
    shows one: the environment log, the runtime info, the config dump, the visualizer and
    every checkpoint, about five times per Runner. The formatting is a pure function of the
    text, so the tests' process remembers it: one format per config, the same text."""
    import mmengine.config.config as mmengine_config
    format_code = mmengine_config.FormatCode

    @functools.lru_cache(maxsize=256)
    def format_text(text: str, style: tuple):
        return format_code(text, style_config=dict(style))

    def remembered(text, style_config=None, **kwargs):
        if kwargs or not isinstance(style_config, dict):
            return format_code(text, style_config=style_config, **kwargs)
        return format_text(text, tuple(sorted(style_config.items())))

    mmengine_config.FormatCode = remembered


_remember_config_formatting()
if DefaultScope.get_current_instance() is None:
    DefaultScope.get_instance('bigfix_mm_tests', scope_name='mmagic')

REPO = Path(__file__).resolve().parents[1]
# outputs of the authors' Halton-MaskGIT code (orders, a tiny checkpoint, sampler runs)
HALTON_MASKGIT_ROOT = shared_dir() / 'data' / 'halton_maskgit'


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: long-running test (deselect with -m "not slow")')


@pytest.fixture
def tiny_transformer_cfg():
    """A transformer small enough for millisecond CPU tests."""
    return dict(type='BidirectionalTransformer', size=None, width=32, depth=2, heads=2,
                codebook_size=16, grid=(4, 4), num_classes=3)


def _cifar_found() -> bool:
    """CIFAR-10 (either layout) in data/cifar10 or the shared folder, without downloading."""
    try:
        return all(locate_cifar10(None, split) for split in ('train', 'test'))
    except DataNotFoundError:
        return False


requires_cifar = pytest.mark.skipif(not _cifar_found(), reason='CIFAR-10 not found locally')
requires_halton_maskgit = pytest.mark.skipif(
    not (HALTON_MASKGIT_ROOT / 'README.md').is_file(),
    reason=f'reference outputs of the authors\' code not found at {HALTON_MASKGIT_ROOT} '
    '(set BIGFIX_SHARED to the folder holding data/halton_maskgit)')


@pytest.fixture
def tiny_vq_arch():
    """VQAutoencoder kwargs of a VQGAN small enough for sub-second CPU tests (f2, K=64)."""
    return dict(ch=32, ch_mult=(1, 2), num_res_blocks=1, z_channels=32, codebook_size=64,
                code_dim=4, l2_norm=True, norm_groups=8)


def assert_codes_like(tokenizer, autoencoder) -> None:
    """``tokenizer`` (images in [0, 1]) encodes and decodes exactly like ``autoencoder``
    (images in [-1, 1]) on a random (2, 3, 16, 16) batch."""
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        _, ids, _ = autoencoder.encode(x * 2 - 1)
        expected = ((autoencoder.decode_ids(ids) + 1) / 2).clamp(0, 1)
    assert torch.equal(tokenizer.encode(x), ids)
    assert torch.allclose(tokenizer.decode(ids), expected, atol=1e-6)


# the Runner-level tests' config: synthetic images, no data on disk (tools launched in a
# subprocess get it, or a dump of small_cfg, as CONFIG); a work dir holds its dump as
# SMALL_CONFIG.name
SMALL_CONFIG = REPO / 'configs' / 'bigfix' / 'bigfix_synthetic_shapes.py'
CIFAR_QUICK = REPO / 'configs' / 'bigfix' / 'bigfix_cifar10_quick.py'


_RUN_NUMBERS = itertools.count()


def shrunk_cfg(config: Path, work_dir: Path, max_iters: int = 4) -> Config:
    """``config`` shrunk to seconds (tiny transformer, few samples), resolved like
    tools/train.py does."""
    cfg = Config.fromfile(str(config))
    cfg.work_dir = str(work_dir)
    cfg.model.transformer.update(size=None, width=32, depth=1, heads=2)
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = 2
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_dataloader.dataset.indices = 64
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].update(batch_size=8, num_workers=0, persistent_workers=False)
        cfg[key].dataset.indices = 16
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    cfg.param_scheduler = []
    cfg.log_level = 'WARNING'
    # MMEngine names its logger and visualizer after the config file and the second the run
    # starts, and a second Runner of that name in this process reuses the first one's
    # (its log file, its vis_backends): one name per shrunk config.
    cfg.experiment_name = f'{work_dir.name}_{next(_RUN_NUMBERS)}'
    return resolve_config(cfg)


def small_cfg(work_dir: Path, max_iters: int = 4) -> Config:
    """The synthetic-shapes config shrunk to seconds (runs without any data on disk)."""
    return shrunk_cfg(SMALL_CONFIG, work_dir, max_iters)


def small_cifar_cfg(work_dir: Path, max_iters: int = 4) -> Config:
    """The CIFAR-10 quick config shrunk to seconds (mark its tests ``requires_cifar``)."""
    return shrunk_cfg(CIFAR_QUICK, work_dir, max_iters)


TOOLS = REPO / 'tools'


def _load_module(name: str, path: Path) -> ModuleType:
    """Import ``path`` once as module ``name``."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def load_tool(name: str) -> ModuleType:
    """The module of ``tools/<name>.py`` (``name`` may hold a sub-folder, e.g.
    ``model_converters/convert_taming``), loaded once as ``tools_<name>`` without running
    its command line: the one way tests reach a tool's functions and ``main``."""
    return _load_module('tools_' + name.replace('/', '_'), TOOLS / f'{name}.py')


def tool_exit_status(name: str, argv: list) -> int:
    """Run ``tools/<name>.py``'s command line in this process as its ``__main__`` does
    (through ``run_tool``: an input error is printed as one block, status 2); the exit
    status: ``main``'s int result (the tools that ``sys.exit`` it), else 0 when it returns."""
    from bigfix_mm.utils.cli import run_tool
    tool = load_tool(name)
    try:
        result = run_tool(lambda: tool.main(argv))
    except SystemExit as exit_:
        return exit_.code
    return result if isinstance(result, int) else 0


def input_error_block(stderr: str) -> str:
    """The one block ``run_tool`` prints for an input error, taken from a tool's stderr
    (asserted: exactly one such block, at the end, and no traceback anywhere)."""
    import re
    assert 'Traceback' not in stderr, stderr[-3000:]
    headers = re.findall(r'^error \(\w+\):$', stderr, flags=re.M)
    assert len(headers) == 1, stderr[-3000:]
    block = stderr[stderr.rindex(headers[0]):]
    assert block.rstrip().endswith('(--debug or BIGFIX_DEBUG=1 shows the traceback)'), block
    return block
