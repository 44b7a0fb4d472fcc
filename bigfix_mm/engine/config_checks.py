"""Config validation before any work starts (tools/train.py, tools/test.py).

Checks that the codebook size, token grid and class count agree across the
tokenizers, token metadata (``meta.json``), model, data pipelines and
samplers; that the images are a size the tokenizer accepts; and that every
sampler's ``steps`` lies in [1, number of tokens]. Each problem names the
config fields involved and the fix; all problems are reported at once.

Only static facts are used (config values, class defaults, small metadata
files); nothing is built, so a check takes milliseconds. Facts that cannot be
known statically (e.g. a diffusers VQ model's codebook) are skipped here and
checked when the model is built.
"""
import inspect
import json
import math
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config

from bigfix_mm.errors import InputError
from bigfix_mm.registry import DATASETS, MODELS

SPLITS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
TOKENIZE_TRANSFORMS = ('TokenizeImage', 'TokenizeVideo')
NATIVE_IMAGE_SIZE = {'CIFAR10JPEG': 32, 'FashionMNIST': 28}


class ConfigError(InputError, ValueError):
    """The config is inconsistent; the message lists every problem and its fix."""


def check_config(cfg: Config) -> None:
    """Raise :class:`ConfigError` listing every inconsistency of a BIGFix config."""
    problems = collect_problems(cfg)
    if problems:
        raise ConfigError(f'{len(problems)} config problem(s) found before starting:\n' +
                          '\n'.join(f'  - {p}' for p in problems))


def collect_problems(cfg: Config) -> List[str]:
    """Every inconsistency as a message (empty for a consistent or non-BIGFix config)."""
    model = cfg.get('model') or {}
    if model.get('type') != 'BIGFix':
        return []
    tr = _with_defaults(MODELS, model.get('transformer') or {})
    k, num_classes = tr.get('codebook_size'), tr.get('num_classes')
    grid = tuple(int(g) for g in tr.get('grid', ()))
    if len(grid) not in (2, 3) or min(grid, default=0) < 1:
        return [f'model.transformer.grid={list(grid)} must be (H, W) or (T, H, W) positive ints']
    grid3 = (1, ) + grid if len(grid) == 2 else grid
    num_tokens = math.prod(grid3)
    problems: List[str] = []
    problems += _check_tokenizers(cfg, model, k, grid3)
    problems += _check_pipelines_and_data(cfg, k, grid3, num_classes)
    problems += _check_samplers(cfg, model, num_tokens, grid)
    return problems


# ------------------------------------------------------------------ tokenizers
def tokenizer_facts(tok: Optional[dict]) -> Optional[Tuple[int, int, str]]:
    """(codebook_size, downsample, description) of a tokenizer config, or None if unknown."""
    if not tok:
        return None
    kind = tok.get('type')
    if kind == 'PerFrameTokenizer':
        return tokenizer_facts(tok.get('tokenizer'))
    if kind == 'RGBQuantTokenizer':
        full = _with_defaults(MODELS, tok)
        levels = int(full['levels'])
        return levels**3, int(full['downsample']), f'RGBQuantTokenizer(levels={levels}) has ' \
            f'{levels}**3 = {levels**3} codes'
    if kind == 'VQGANTokenizer':
        from bigfix_mm.models.tokenizers.vq_autoencoder import VQAutoencoder, resolve_arch
        extra = {k: v for k, v in tok.items() if k not in ('type', 'arch', 'checkpoint', 'use_ema')}
        arch = {**_signature_defaults(VQAutoencoder), **resolve_arch(tok.get('arch'), **extra)}
        return (int(arch['codebook_size']), 2**(len(arch['ch_mult']) - 1),
                f"VQGANTokenizer(arch={tok.get('arch')!r}) has {arch['codebook_size']} codes")
    if 'codebook_size' in tok and 'downsample' in tok:
        return int(tok['codebook_size']), int(tok['downsample']), f'{kind} has ' \
            f"{tok['codebook_size']} codes"
    return None


def _tokenizer_sources(cfg: Config, model: dict) -> Iterator[Tuple[str, dict, Optional[str]]]:
    """(field path, tokenizer config, dataloader split or None)."""
    if model.get('tokenizer'):
        yield 'model.tokenizer', model['tokenizer'], None
    for split, dataset, path in _datasets(cfg):
        for i, t in enumerate(dataset.get('pipeline') or []):
            if isinstance(t, dict) and t.get('type') in TOKENIZE_TRANSFORMS and t.get('tokenizer'):
                yield f'{path}.pipeline[{i}].tokenizer', t['tokenizer'], split


def _check_tokenizers(cfg: Config, model: dict, k: int, grid3: tuple) -> List[str]:
    problems = []
    for where, tok, split in _tokenizer_sources(cfg, model):
        facts = tokenizer_facts(tok)
        if facts is None:
            continue
        tok_k, down, desc = facts
        if tok_k != k:
            problems.append(f'{where}: {desc} but model.transformer.codebook_size={k}. Set '
                            f'model.transformer.codebook_size={tok_k} (and every '
                            'RandomTokenInjection / TokenDataset codebook_size), or use a '
                            f'tokenizer with {k} codes.')
        if split is None:
            continue
        dataset = _dataset_of(cfg, split)
        size = image_size(dataset)
        if size is None:
            continue
        h, w = size
        if h % down or w % down:
            problems.append(f'{split}.dataset gives {h}x{w} images, which {where} (downsample '
                            f'{down}) does not accept: crop or resize to a multiple of {down}, '
                            f'e.g. dict(type=\'CenterCropResize\', size={h // down * down}) '
                            'before tokenizing.')
        elif (h // down, w // down) != grid3[1:]:
            shown = list(grid3) if grid3[0] > 1 else list(grid3[1:])
            problems.append(f'{split}.dataset gives {h}x{w} images -> {h // down}x{w // down} '
                            f'tokens with {where} (downsample {down}), but '
                            f'model.transformer.grid={shown}. '
                            f'Set the grid\'s (H, W) to ({h // down}, {w // down}) or resize '
                            f'the images to {grid3[1] * down}x{grid3[2] * down}.')
        frames = _with_defaults(DATASETS, dataset).get('num_frames')
        if frames is not None and int(frames) != grid3[0]:
            problems.append(f'{split}.dataset.num_frames={frames} but model.transformer.grid '
                            f'has T={grid3[0]} frames: make them equal.')
    return problems


def image_size(dataset: dict) -> Optional[Tuple[int, int]]:
    """(H, W) of the images a dataset config feeds its tokenizer, if known statically."""
    size = None
    full = _with_defaults(DATASETS, dataset)
    if full.get('image_size') is not None:
        size = _hw(full['image_size'])
    elif dataset.get('type') in NATIVE_IMAGE_SIZE:
        size = _hw(NATIVE_IMAGE_SIZE[dataset['type']])
    for t in dataset.get('pipeline') or []:
        if not isinstance(t, dict):
            continue
        if t.get('type') in TOKENIZE_TRANSFORMS:
            break
        kind = t.get('type')
        if kind == 'CenterCropResize':
            size = _hw(t.get('size', 256))
        elif kind in ('CenterCrop', 'RandomCrop') and 'crop_size' in t:
            size = _hw(t['crop_size'], wh=True)
        elif kind in ('Resize', 'RandomResizedCrop') and \
                isinstance(t.get('scale'), (int, Sequence)) and not t.get('keep_ratio', False):
            size = _hw(t['scale'], wh=True)
    return size


# -------------------------------------------------------- pipelines and data
def _check_pipelines_and_data(cfg: Config, k: int, grid3: tuple, num_classes: int) -> List[str]:
    problems = []
    for split, dataset, path in _datasets(cfg):
        for i, t in enumerate(dataset.get('pipeline') or []):
            if isinstance(t, dict) and t.get('type') == 'RandomTokenInjection' and \
                    t.get('codebook_size') != k:
                problems.append(f"{path}.pipeline[{i}] (RandomTokenInjection).codebook_size="
                                f"{t.get('codebook_size')} but model.transformer.codebook_size="
                                f'{k}: set both to the tokenizer\'s codebook size.')
        if dataset.get('type') == 'TokenDataset':
            problems += _check_token_dataset(dataset, path, k, grid3, num_classes)
            continue
        classes = dataset_num_classes(dataset)
        if classes is not None and classes != num_classes:
            problems.append(f"{path} ({dataset.get('type')}) has {classes} classes but "
                            f'model.transformer.num_classes={num_classes}: set '
                            f'model.transformer.num_classes={classes}.')
    return problems


def _check_token_dataset(dataset: dict, path: str, k: int, grid3: tuple, c: int) -> List[str]:
    problems = []
    expected = dict(codebook_size=k, grid=grid3, num_classes=c)
    for key, value in expected.items():
        given = dataset.get(key)
        if given is not None and _norm(key, given) != value:
            problems.append(f'{path}.{key}={_show(given)} but model.transformer.{key}='
                            f'{_show(value)}: set both to the value of the extracted tokens '
                            '(meta.json).')
    meta_path = Path(str(dataset.get('data_root', ''))) / 'meta.json'
    if dataset.get('data_root') and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError as err:
            return problems + [f'{meta_path} is not valid JSON ({err}): re-run '
                               'tools/extract_tokens.py.']
        for key, value in expected.items():
            if meta.get(key) is not None and _norm(key, meta[key]) != value:
                problems.append(f'{meta_path} says {key}={_show(meta[key])} (tokenizer '
                                f"{meta.get('tokenizer', '?')}) but model.transformer.{key}="
                                f'{_show(value)}: set model.transformer.{key} (and '
                                f'{path}.{key}) to {_show(meta[key])}, or re-extract the tokens '
                                'with the intended tokenizer.')
    return problems


def dataset_num_classes(dataset: dict) -> Optional[int]:
    """Class count of a dataset config: ``classes`` / ``metainfo`` / the class's METAINFO."""
    if dataset.get('classes') is not None:
        return len(dataset['classes'])
    meta = dataset.get('metainfo') or {}
    if meta.get('classes') is not None:
        return len(meta['classes'])
    cls = _registered(DATASETS, dataset.get('type'))
    classes = (getattr(cls, 'METAINFO', None) or {}).get('classes')
    return len(classes) if classes else None


# ------------------------------------------------------------------- samplers
def _check_samplers(cfg: Config, model: dict, num_tokens: int, grid: tuple) -> List[str]:
    problems = []
    for where, steps in _sampler_steps(cfg, model):
        if steps is None:
            continue
        if not isinstance(steps, int) or not 1 <= steps <= num_tokens:
            problems.append(f'{where}={steps!r} must be an int in [1, {num_tokens}] (the number '
                            f'of tokens of model.transformer.grid={list(grid)}): use e.g. '
                            f'{min(32, num_tokens)}.')
    return problems


def _sampler_steps(cfg: Config, model: dict) -> Iterator[Tuple[str, Any]]:
    sampler = model.get('sampler') or dict(type='TokenFixingSampler')
    yield 'model.sampler.steps', _with_defaults(MODELS, sampler).get('steps')
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if not isinstance(hook, dict) or hook.get('type') != 'FixingSamplerHook':
            continue
        for key in ('sampler', 'baseline'):
            sub = hook.get(key) or dict(type='TokenFixingSampler' if key == 'sampler' else
                                        'HaltonSampler', steps=8)
            yield f'custom_hooks[{i}].{key}.steps', _with_defaults(MODELS, sub).get('steps')
        yield f'custom_hooks[{i}].steps', hook.get('steps')
    for name in ('val_evaluator', 'test_evaluator'):
        for j, metric in enumerate(_metrics(cfg.get(name))):
            kwargs = metric.get('sample_kwargs') or {}
            yield f'{name} metric {j} sample_kwargs.steps', kwargs.get('steps')
            if isinstance(kwargs.get('sampler'), dict):
                yield (f'{name} metric {j} sample_kwargs.sampler.steps',
                       _with_defaults(MODELS, kwargs['sampler']).get('steps'))


def _metrics(evaluator: Any) -> List[dict]:
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    if isinstance(evaluator, dict):
        return [evaluator]
    return [m for m in (evaluator or []) if isinstance(m, dict)]


# -------------------------------------------------------------------- helpers
def _datasets(cfg: Config) -> Iterator[Tuple[str, dict, str]]:
    for split in SPLITS:
        dataset = _dataset_of(cfg, split)
        if dataset:
            path = f'{split}.dataset'
            while isinstance(dataset.get('dataset'), dict):  # wrappers (RepeatDataset, ...)
                dataset, path = dataset['dataset'], path + '.dataset'
            yield split, dataset, path


def _dataset_of(cfg: Config, split: str) -> Optional[dict]:
    loader = cfg.get(split)
    dataset = loader.get('dataset') if isinstance(loader, dict) else None
    while isinstance(dataset, dict) and isinstance(dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    return dataset if isinstance(dataset, dict) else None


def _registered(registry, kind: Optional[str]):
    if not isinstance(kind, str):
        return None
    try:
        return registry.get(kind)
    except Exception:  # noqa: BLE001  (unknown scope / type: the build will report it)
        return None


def _signature_defaults(cls) -> Dict[str, Any]:
    try:
        params = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _with_defaults(registry, cfg: dict) -> dict:
    """The config's kwargs over the registered class's (and its bases') defaults."""
    cls = _registered(registry, cfg.get('type'))
    merged: Dict[str, Any] = {}
    for klass in reversed(getattr(cls, '__mro__', ())):
        if '__init__' in vars(klass):
            merged.update(_signature_defaults(klass))
    merged.update(cfg)
    return merged


def _hw(size: Any, wh: bool = False) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    a, b = (int(s) for s in size)
    return (b, a) if wh else (a, b)  # MMCV scales / crop sizes are (w, h)


def _norm(key: str, value: Any) -> Any:
    if key == 'grid':
        grid = tuple(int(g) for g in value)
        return (1, ) + grid if len(grid) == 2 else grid
    return value


def _show(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, list)) else value
