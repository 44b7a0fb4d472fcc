"""A BIGFix config's facts, each with one owner, and the checks that remain.

Owners: the only places a BIGFix config states these facts::

    model.tokenizer                  the tokenizer; its codebook is the codebook size
    model.transformer.codebook_size  only when there is no model tokenizer (pre-extracted tokens)
    model.transformer.grid           token grid (H, W) or (T, H, W)
    model.transformer.num_classes    class count
    model.injection                  injection_prob, mode (+ unigram, mask_ratio)
    eval_injection (top level)       optional: the validation / test corruption when it must
                                     differ from training (e.g. two trainings with p=0.2 and
                                     p=0 both scored on p=0.2 held-out batches)

:func:`resolve_config` hands them, after every ``--cfg-options`` override, to
the parts that need them: ``TokenDataset`` (codebook_size, grid, num_classes),
``RandomTokenInjection`` (codebook_size and ``model.injection``) and
``TokenizeImage`` / ``TokenizeVideo`` (``model.tokenizer``). A config that
states one of them a second time is rejected with both places named. So
``--cfg-options model.injection.injection_prob=0`` changes p wherever the
corruption runs (data pipeline or the model), and
``model.transformer.codebook_size=K`` (or the tokenizer) the codebook everywhere.

:func:`check_config` then compares what the data will be against the model:
image size vs tokenizer and grid, frame count, the datasets' class counts and
sampler steps. The token metadata (``meta.json``) is checked by
``TokenDataset`` when it is built. All problems are reported at once, before
anything is built.
"""
from typing import Any, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config

from bigfix_mm.core.checkpoint import PARTIAL_LOAD_KEY
from bigfix_mm.datasets.token_extraction import EXTRACT_KEYS
from bigfix_mm.engine.config_keys import unknown_key_problems
from bigfix_mm.errors import InputError
from bigfix_mm.models.editors.bigfix.sampler.presets import (DEFAULT_SAMPLER, PREVIEW_BASELINE,
                                                             PREVIEW_SAMPLER)
from bigfix_mm.core.schedules import as_grid3d
from bigfix_mm.models.tokenizers.facts import tokenizer_facts
from bigfix_mm.registry import (DATASETS, MODELS, TRANSFORMS, registered_class,
                                with_class_defaults)

SPLITS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
TOKENIZE_TRANSFORMS = ('TokenizeImage', 'TokenizeVideo')
TOKEN_FACTS = ('codebook_size', 'grid', 'num_classes')
INJECTION_KEYS = ('codebook_size', 'injection_prob', 'mode', 'unigram', 'mask_ratio')
# set by resolve_config: the data side holds copies it made (refreshed on the next call)
RESOLVED_KEY = 'facts_resolved_from_model'
EVAL_INJECTION_KEY = 'eval_injection'  # optional top-level key (see the module docstring)
# every top-level key bigfix_mm reads besides the runner's, each from its owner
PROJECT_KEYS = (RESOLVED_KEY, EVAL_INJECTION_KEY, PARTIAL_LOAD_KEY, *EXTRACT_KEYS)


class ConfigError(InputError, ValueError):
    """The config is inconsistent; the message lists every problem and its fix."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    @classmethod
    def listing(cls, problems: Sequence[str]) -> 'ConfigError':
        return cls(f'{len(problems)} config problem(s) found before starting:\n' +
                   '\n'.join(f'  - {p}' for p in problems), problems)


def prepare_config(cfg: Config) -> Config:
    """What the tools run: every key checked
    (:func:`~bigfix_mm.engine.config_keys.unknown_key_problems`, before the model's
    facts are copied to the data side), :func:`resolve_config`, then
    :func:`check_config`; all problems are reported together."""
    problems = unknown_key_problems(cfg, PROJECT_KEYS, dump_marker=RESOLVED_KEY)
    try:
        resolve_config(cfg)
    except ConfigError as err:
        raise ConfigError.listing(problems + err.problems) from None
    problems += collect_problems(cfg)
    if problems:
        raise ConfigError.listing(problems)
    return cfg


# ------------------------------------------------------------------ owners
def resolve_config(cfg: Config) -> Config:
    """Hand the model's facts to the data side, in place (see the module docstring).

    Idempotent: a config resolved before (e.g. the copy a Runner dumps into its
    work dir) has its copies refreshed from the model. Non-BIGFix configs pass.

    Raises:
        ConfigError: a fact is stated in two places (both are named).
    """
    model = cfg.get('model') or {}
    if model.get('type') != 'BIGFix':
        return cfg
    refresh = bool(cfg.get(RESOLVED_KEY))
    problems: List[str] = []
    tr = model.setdefault('transformer', {})
    k = _codebook_owner(model, tr, refresh, problems)
    injection = dict(model.get('injection') or {})
    eval_injection = cfg.get(EVAL_INJECTION_KEY)  # held-out corruption, when it differs
    filled = set()  # transforms shared by two loaders (test_dataloader = val_dataloader)
    for split, dataset, path in _datasets(cfg):
        settings = injection if eval_injection is None or split == 'train_dataloader' \
            else dict(eval_injection)
        for i, t in enumerate(dataset.get('pipeline') or []):
            if not isinstance(t, dict) or id(t) in filled:
                continue
            filled.add(id(t))
            where = f'{path}.pipeline[{i}] ({t.get("type")})'
            if t.get('type') == 'RandomTokenInjection':
                stated = {key: t[key] for key in INJECTION_KEYS if key in t}
                if stated and not refresh:
                    problems.append(
                        f'injection is set in two places: model.injection={injection} and '
                        f'{where} with {stated}. The transform reads model.injection: remove '
                        f'{sorted(stated)} from the pipeline entry (change p or the mode with '
                        '--cfg-options model.injection.injection_prob=P model.injection.mode=M).')
                for key in INJECTION_KEYS[1:]:
                    t.pop(key, None)
                t.update(codebook_size=k, **settings)
            elif t.get('type') in TOKENIZE_TRANSFORMS:
                if t.get('tokenizer') is not None and not refresh:
                    problems.append(f'the tokenizer is set in two places: model.tokenizer and '
                                    f'{where}.tokenizer: remove the pipeline\'s; the transform '
                                    'uses model.tokenizer.')
                if model.get('tokenizer') is None:
                    problems.append(f'{where} needs model.tokenizer: set it in the model.')
                t['tokenizer'] = model.get('tokenizer')
        if dataset.get('type') == 'TokenDataset':
            stated = {key: dataset[key] for key in TOKEN_FACTS if key in dataset}
            if stated and not refresh:
                problems.append(
                    f'{path} states {stated}, also set in model.transformer: remove them from '
                    'the dataset; it reads model.transformer (and checks its meta.json).')
            dataset.update(codebook_size=k, grid=tr.get('grid'), num_classes=tr.get('num_classes'))
    if problems:
        raise ConfigError.listing(problems)
    cfg[RESOLVED_KEY] = True
    return cfg


def _codebook_owner(model: dict, tr: dict, refresh: bool, problems: List[str]) -> Optional[int]:
    """K: the model tokenizer's codebook when statically known, else the transformer's."""
    facts = tokenizer_facts(model.get('tokenizer'))
    if facts is None:
        if tr.get('codebook_size') is None:
            problems.append('the codebook size is unknown: set model.transformer.codebook_size '
                            '(pre-extracted tokens: their meta.json codebook_size).')
        return tr.get('codebook_size')
    if tr.get('codebook_size') is not None and not refresh:
        problems.append(f"the codebook size is set in two places: model.tokenizer ({facts[2]}) "
                        f"and model.transformer.codebook_size={tr['codebook_size']}: remove the "
                        'transformer\'s; it is read from the tokenizer.')
    tr['codebook_size'] = facts[0]
    return facts[0]


# ------------------------------------------------------------------ checks
def check_config(cfg: Config) -> None:
    """Raise :class:`ConfigError` listing every mismatch between data and model."""
    problems = collect_problems(cfg)
    if problems:
        raise ConfigError.listing(problems)


def collect_problems(cfg: Config) -> List[str]:
    """Every mismatch as a message (empty for a consistent or non-BIGFix config)."""
    from bigfix_mm.engine.fsdp import fsdp_problems
    strategy_problems = fsdp_problems(cfg) + renamed_metric_problems(dict(cfg.items()))
    model = cfg.get('model') or {}
    if model.get('type') != 'BIGFix':
        return strategy_problems
    tr = with_class_defaults(MODELS, model.get('transformer') or {})
    grid = tuple(int(g) for g in tr.get('grid', ()))
    if len(grid) not in (2, 3) or min(grid, default=0) < 1:
        return strategy_problems + [f'model.transformer.grid={list(grid)} must be (H, W) or '
                                    '(T, H, W) positive ints']
    grid3 = as_grid3d(grid)
    problems: List[str] = list(strategy_problems)
    problems += _check_image_sizes(cfg, model, grid3)
    problems += _check_class_counts(cfg, tr.get('num_classes'))
    problems += _check_samplers(cfg, model, grid3[0] * grid3[1] * grid3[2], grid)
    return problems


# metric names of older work dirs -> their names now
RENAMED_METRICS = {'fix_acc': 'injected_acc'}


def renamed_metric_problems(cfg: Any, path: str = 'cfg') -> List[str]:
    """Every string of ``cfg`` (e.g. ``default_hooks.checkpoint.save_best`` of an older
    work dir's config) naming a metric by its former name, with the new name."""
    if isinstance(cfg, dict):
        return [p for k, v in cfg.items() for p in renamed_metric_problems(v, f'{path}.{k}')]
    if isinstance(cfg, (list, tuple)):
        return [p for i, v in enumerate(cfg) for p in renamed_metric_problems(v, f'{path}[{i}]')]
    if isinstance(cfg, str):
        for old, new in RENAMED_METRICS.items():
            if cfg == old or cfg.endswith('/' + old):
                return [f'{path}={cfg!r} names the metric {old!r}, now {new!r} (the accuracy on '
                        f'injected tokens): write {cfg[:-len(old)] + new!r}.']
    return []


def _check_image_sizes(cfg: Config, model: dict, grid3: tuple) -> List[str]:
    """Images a pipeline tokenizes must give the model's grid (and frame count)."""
    problems = []
    for split, dataset, path in _datasets(cfg):
        tokenizers = [t for t in dataset.get('pipeline') or []
                      if isinstance(t, dict) and t.get('type') in TOKENIZE_TRANSFORMS]
        facts = tokenizer_facts(model.get('tokenizer')) if tokenizers else None
        size = image_size(dataset) if facts else None
        if size is None:
            continue
        down, (h, w) = facts[1], size
        if h % down or w % down:
            problems.append(f'{path} gives {h}x{w} images, which model.tokenizer (downsample '
                            f'{down}) does not accept: crop or resize to a multiple of {down}, '
                            f'e.g. dict(type=\'CenterCropResize\', size={h // down * down}) '
                            'before tokenizing.')
        elif (h // down, w // down) != grid3[1:]:
            shown = list(grid3) if grid3[0] > 1 else list(grid3[1:])
            problems.append(f'{path} gives {h}x{w} images -> {h // down}x{w // down} tokens '
                            f'with model.tokenizer (downsample {down}), but '
                            f'model.transformer.grid={shown}. Set the grid\'s (H, W) to '
                            f'({h // down}, {w // down}) or resize the images to '
                            f'{grid3[1] * down}x{grid3[2] * down}.')
        frames = with_class_defaults(DATASETS, dataset).get('num_frames')
        if frames is not None and int(frames) != grid3[0]:
            problems.append(f'{path}.num_frames={frames} but model.transformer.grid has '
                            f'T={grid3[0]} frames: make them equal.')
    return problems


def image_size(dataset: dict) -> Optional[Tuple[int, int]]:
    """(H, W) of the images a dataset config feeds its tokenizer, if known statically."""
    full = with_class_defaults(DATASETS, dataset)
    native = getattr(registered_class(DATASETS, dataset.get('type')), 'IMAGE_SIZE', None)
    size = full.get('image_size') or native  # a size argument, else the class's own
    size = None if size is None else _hw(size)
    for t in dataset.get('pipeline') or []:
        if not isinstance(t, dict):
            continue
        if t.get('type') in TOKENIZE_TRANSFORMS:
            break
        kind = t.get('type')
        if kind == 'CenterCropResize':
            size = _hw(with_class_defaults(TRANSFORMS, t)['size'])
        elif kind in ('CenterCrop', 'RandomCrop') and 'crop_size' in t:
            size = _hw(t['crop_size'], wh=True)
        elif kind in ('Resize', 'RandomResizedCrop') and \
                isinstance(t.get('scale'), (int, Sequence)) and not t.get('keep_ratio', False):
            size = _hw(t['scale'], wh=True)
    return size


def _check_class_counts(cfg: Config, num_classes: int) -> List[str]:
    problems = []
    for _, dataset, path in _datasets(cfg):
        classes = dataset_num_classes(dataset)
        if dataset.get('type') != 'TokenDataset' and classes is not None \
                and classes != num_classes:
            problems.append(f"{path} ({dataset.get('type')}) has {classes} classes but "
                            f'model.transformer.num_classes={num_classes}: set '
                            f'model.transformer.num_classes={classes}.')
    return problems


def dataset_num_classes(dataset: dict) -> Optional[int]:
    """Class count of a dataset config: ``classes`` / ``metainfo`` / the class's METAINFO."""
    if dataset.get('classes') is not None:
        return len(dataset['classes'])
    meta = dataset.get('metainfo') or {}
    if meta.get('classes') is not None:
        return len(meta['classes'])
    cls = registered_class(DATASETS, dataset.get('type'))
    classes = (getattr(cls, 'METAINFO', None) or {}).get('classes')
    return len(classes) if classes else None


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
    sampler = model.get('sampler') or DEFAULT_SAMPLER
    yield 'model.sampler.steps', with_class_defaults(MODELS, sampler).get('steps')
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if not isinstance(hook, dict) or hook.get('type') != 'FixingSamplerHook':
            continue
        for key in ('sampler', 'baseline'):
            sub = hook.get(key) or (PREVIEW_SAMPLER if key == 'sampler' else PREVIEW_BASELINE)
            yield f'custom_hooks[{i}].{key}.steps', with_class_defaults(MODELS, sub).get('steps')
        yield f'custom_hooks[{i}].steps', hook.get('steps')
    for name in ('val_evaluator', 'test_evaluator'):
        for j, metric in enumerate(_metrics(cfg.get(name))):
            kwargs = metric.get('sample_kwargs') or {}
            yield f'{name} metric {j} sample_kwargs.steps', kwargs.get('steps')
            if isinstance(kwargs.get('sampler'), dict):
                yield (f'{name} metric {j} sample_kwargs.sampler.steps',
                       with_class_defaults(MODELS, kwargs['sampler']).get('steps'))


def _metrics(evaluator: Any) -> List[dict]:
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    if isinstance(evaluator, dict):
        return [evaluator]
    return [m for m in (evaluator or []) if isinstance(m, dict)]


# -------------------------------------------------------------------- helpers
def _datasets(cfg: Config) -> Iterator[Tuple[str, dict, str]]:
    """(split, innermost dataset config, its field path) of every dataloader."""
    seen = set()
    for split in SPLITS:
        loader = cfg.get(split)
        dataset = loader.get('dataset') if isinstance(loader, dict) else None
        path = f'{split}.dataset'
        while isinstance(dataset, dict) and isinstance(dataset.get('dataset'), dict):
            dataset, path = dataset['dataset'], path + '.dataset'  # wrappers (RepeatDataset)
        if isinstance(dataset, dict) and id(dataset) not in seen:
            seen.add(id(dataset))
            yield split, dataset, path


def _hw(size: Any, wh: bool = False) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    a, b = (int(s) for s in size)
    return (b, a) if wh else (a, b)  # MMCV scales / crop sizes are (w, h)
