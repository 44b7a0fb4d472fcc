"""Every key of a config is read by something; the others are refused before anything runs.

A typo'd key is otherwise ignored (``train_cfgg.max_iters=5``: the config's 400
iterations run) or lands in a ``**kwargs`` that fails only at its first use
(``default_hooks.checkpoint.intervall``: at the first save, after the training).
:func:`unknown_key_problems` checks a config, after every ``--cfg-options``
override, against what reads it; nothing is built and nothing is hand-listed:

* **Component arguments**: a dict with a ``type`` is checked against the
  signature of the class (or function) its registry gives. ``**kwargs`` are
  followed to the base class ``__init__`` that receives them (the MRO), and past
  the last one to where they go (:func:`kwargs_sinks`: ``CheckpointHook`` passes
  them to ``Runner.save_checkpoint``, which already gets all its arguments from
  the hook; ``EMAHook`` to its ``ema_type`` model; ``torch.nn.Module`` takes none;
  or a class's ``KWARGS_ARGUMENTS``, e.g. ``VQGANTokenizer`` -> ``VQAutoencoder``).
  A ``**kwargs`` that goes anywhere else is not checked. A class names where an
  untyped dict argument goes with ``DICT_ARGUMENTS`` (``BIGFix.injection`` ->
  ``TokenInjector``). The Runner's
  own sections are checked with what builds them: dataloaders (``DataLoader``
  plus the keys ``Runner.build_dataloader`` takes out), loops (the loop class or
  MMEngine's default loop), ``optim_wrapper``, ``param_scheduler``, hooks,
  evaluators, ``visualizer``, ``log_processor``, ``randomness``; the keys a
  builder reads itself (``by_epoch``, ``paramwise_cfg``, ``convert_to_iter_based``)
  are read off its source (:func:`keys_read`).
* **Top-level keys** are accepted when the runner reads them (its constructor's
  arguments and the ``cfg.get('...')`` keys of its source: ``model_wrapper_cfg``,
  ``compile``, ...), ``runner_type`` / ``custom_imports``, or bigfix_mm does (the
  ``project_keys`` the caller gives: ``config_checks.PROJECT_KEYS``). Any other key is a
  variable of the config, and the rule is:

  - a key that no config file assigns (it came from ``--cfg-options``) is refused:
    nothing reads it;
  - a variable the files read (``max_iters`` in ``dict(max_iters=max_iters)``,
    ``{{_base_.train_pipeline}}``, ``_base_.gen_evaluator``) is accepted;
  - an unread variable (a dict, a list or a plain value) is accepted, unless its
    name is within difflib ratio 0.8 of a key that is read (``train_cfgg``,
    ``load_fromm``): then it is taken for a typo and refused. Unread dicts are
    allowed because base files offer presets to pick from
    (``_base_/evaluation/generative_cifar10.py``'s ``gen_pr_metric``). What this
    lets through: an unread key far from every valid name (an MMCV 1.x
    ``optimizer = dict(...)``) when it is written in a config file.
  - a run's dump (the one file a work dir holds, which assigns
    ``facts_resolved_from_model``) has every reference resolved, so the typo rule is
    not applied to it: it was checked, as its source, when the run started.

Each refusal names the path, the nearest valid name and the component.
"""
import ast
import difflib
import inspect
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set

from mmengine.config import Config

CLOSE_TYPO = 0.8  # difflib ratio above which an unread variable is taken for a typo
RUNNER_TYPE_KEY = 'runner_type'  # top-level key naming another runner class (build_runner)
SUGGEST = 0.5  # difflib ratio of the nearest name shown


# ----------------------------------------------------------------- reading source
@lru_cache(maxsize=None)
def _source_tree(obj: Any) -> Optional[ast.AST]:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(obj)))
    except (OSError, TypeError, SyntaxError):
        return None


@lru_cache(maxsize=None)
def keys_read(obj: Any, names: Sequence[str]) -> FrozenSet[str]:
    """String keys ``obj``'s source reads from a variable or attribute named in
    ``names``: ``x.get('k')``, ``x.pop('k')``, ``x.setdefault('k')``, ``x['k']``,
    ``'k' in x``."""
    tree = _source_tree(obj)
    if tree is None:
        return frozenset()

    def target(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in names) or \
            (isinstance(node, ast.Attribute) and node.attr in names)

    def text(node: ast.AST) -> Optional[str]:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) \
            else None

    keys: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ('get', 'pop', 'setdefault') and target(node.func.value) and \
                node.args and text(node.args[0]):
            keys.add(text(node.args[0]))
        elif isinstance(node, ast.Subscript) and target(node.value) and text(node.slice):
            keys.add(text(node.slice))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and \
                isinstance(node.ops[0], (ast.In, ast.NotIn)) and text(node.left) and \
                target(node.comparators[0]):
            keys.add(text(node.left))
    return frozenset(keys)


def _keyword_parameters(func: Callable) -> Optional[List[inspect.Parameter]]:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    return [p for p in params if p.name not in ('self', 'cls')]


def arguments_left_free(owner: type, method: str, receiver: Callable) -> FrozenSet[str]:
    """Arguments of ``receiver`` that ``owner``'s calls ``x.<method>(...)`` do not pass
    themselves (what a ``**kwargs`` forwarded there may still hold)."""
    params = [p.name for p in _keyword_parameters(receiver) or []
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    passed: Set[str] = set()
    for klass in owner.__mro__:
        tree = _source_tree(klass) if klass is not object else None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr == method:
                positional = [a for a in node.args if not isinstance(a, ast.Starred)]
                passed.update(params[:len(positional)])
                passed.update(k.arg for k in node.keywords if k.arg)
    return frozenset(params) - passed


def _checkpoint_hook_kwargs(value: dict) -> FrozenSet[str]:
    """``CheckpointHook(**kwargs)`` -> ``Runner.save_checkpoint``, minus what the hook passes."""
    from mmengine.hooks import CheckpointHook
    from mmengine.runner import Runner
    return arguments_left_free(CheckpointHook, 'save_checkpoint', Runner.save_checkpoint)


def _ema_hook_kwargs(value: dict) -> Optional[FrozenSet[str]]:
    """``EMAHook(**kwargs)`` -> the ``ema_type`` model it builds around the model."""
    from bigfix_mm.registry import MODELS
    target = _lookup(value.get('ema_type', 'ExponentialMovingAverage'), MODELS)
    return None if target is None else accepted_arguments(target, value)


def kwargs_sinks() -> Dict[type, Callable[[dict], Optional[FrozenSet[str]]]]:
    """Classes whose ``__init__(**kwargs)`` keeps the kwargs for something other than a
    base class -> the names they may hold, given the config dict."""
    import torch
    from mmengine.hooks import CheckpointHook, EMAHook
    return {CheckpointHook: _checkpoint_hook_kwargs, EMAHook: _ema_hook_kwargs,
            torch.nn.Module: lambda value: frozenset()}  # Module.__init__ refuses any


def _forwards_kwargs_to_base(klass: type, var_keyword: str) -> bool:
    """True when ``klass.__init__`` passes ``**<var_keyword>`` to a base ``__init__``
    (``super().__init__(..., **kwargs)`` or ``Base.__init__(self, ..., **kwargs)``)."""
    tree = _source_tree(klass.__init__)
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == '__init__' and \
                any(k.arg is None and isinstance(k.value, ast.Name) and k.value.id == var_keyword
                    for k in node.keywords):
            return True
    return False


def accepted_arguments(obj: Any, value: Optional[dict] = None) -> Optional[FrozenSet[str]]:
    """Keyword arguments a class or a function accepts, given its config dict ``value``;
    None when a ``**kwargs`` goes where this cannot follow.

    A class: its ``__init__``'s; ``**kwargs`` passed on to a base ``__init__`` add the
    base's (the MRO, up to a closed signature), kept ones add what :func:`kwargs_sinks`
    or the class's ``KWARGS_ARGUMENTS`` (the callable receiving them) says.
    """
    if not inspect.isclass(obj):
        params = _keyword_parameters(obj)
        if params is None or any(p.kind is p.VAR_KEYWORD for p in params):
            return None
        return frozenset(p.name for p in params if p.kind is not p.VAR_POSITIONAL)
    names: Set[str] = set()
    sinks = kwargs_sinks()
    for klass in obj.__mro__:
        if '__init__' not in vars(klass):
            continue
        if klass is object:
            return frozenset(names)
        params = _keyword_parameters(klass.__init__)
        if params is None:
            return None
        names.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                          p.KEYWORD_ONLY))
        var_keyword = next((p.name for p in params if p.kind is p.VAR_KEYWORD), None)
        if var_keyword is None:
            return frozenset(names)
        if klass in sinks:
            rest = sinks[klass](value or {})
            return None if rest is None else frozenset(names | rest)
        if 'KWARGS_ARGUMENTS' in vars(klass):
            rest = accepted_arguments(klass.KWARGS_ARGUMENTS, value)
            return None if rest is None else frozenset(names | rest)
        if not _forwards_kwargs_to_base(klass, var_keyword):
            return None
    return None


# --------------------------------------------------------------------- components
def _registries() -> list:
    from mmagic import registry as r
    return [getattr(r, name) for name in (
        'MODELS', 'DATASETS', 'TRANSFORMS', 'HOOKS', 'METRICS', 'EVALUATOR', 'LOOPS',
        'DATA_SAMPLERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
        'PARAM_SCHEDULERS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS', 'MODEL_WRAPPERS',
        'WEIGHT_INITIALIZERS', 'FUNCTIONS', 'RUNNERS') if hasattr(r, name)]


def _lookup(kind: str, first: Any = None) -> Any:
    """The class (or function) registered as ``kind``, ``first``'s registry first."""
    from bigfix_mm.registry import registered_class
    for registry in ([first] if first is not None else []) + _registries():
        found = registered_class(registry, kind)
        if found is not None:
            return found
    return None


def _nearest(key: str, valid: Iterable[str], cutoff: float = SUGGEST) -> str:
    close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=cutoff)
    return f'did you mean {close[0]!r}?' if close else \
        f'valid: {", ".join(sorted(v for v in valid if not v.startswith("_")))}'


class _Checker:
    def __init__(self) -> None:
        self.problems: List[str] = []

    def arguments(self, value: dict, path: str, target: Any, registry: Any = None,
                  extra: Iterable[str] = ()) -> None:
        """``value``'s keys against ``target``'s arguments (+ ``extra``), then inside."""
        accepted = accepted_arguments(target, value)
        name = getattr(target, '__name__', str(target))
        if accepted is not None:
            valid = set(accepted) | set(extra) | {'type', '_scope_'}
            for key in value:
                if key not in valid:
                    self.problems.append(f'{path}.{key}: {name} has no argument {key!r} '
                                         f'({_nearest(key, valid)})')
        dict_arguments = getattr(target, 'DICT_ARGUMENTS', {}) if inspect.isclass(target) else {}
        for key, sub in value.items():
            if key in dict_arguments and isinstance(sub, dict) and 'type' not in sub:
                self.arguments(sub, f'{path}.{key}', dict_arguments[key], registry)
            else:
                self.inside(sub, f'{path}.{key}', registry)

    def inside(self, value: Any, path: str, registry: Any = None) -> None:
        """Every dict with a registered ``type`` within ``value`` against its class."""
        if isinstance(value, dict):
            target = _lookup(value['type'], registry) if isinstance(value.get('type'), str) \
                else None
            if target is not None:
                self.arguments(value, path, target, registry)
                return
            for key, sub in value.items():
                self.inside(sub, f'{path}.{key}', registry)
        elif isinstance(value, (list, tuple)):
            for i, sub in enumerate(value):
                self.inside(sub, f'{path}[{i}]', registry)

    def typed_or(self, value: Any, path: str, default: Any, registry: Any,
                 extra: Iterable[str] = ()) -> None:
        """A section built from its ``type``, or as ``default`` without one."""
        if not isinstance(value, dict):
            self.inside(value, path, registry)
            return
        target = _lookup(value['type'], registry) if isinstance(value.get('type'), str) \
            else default
        if target is not None:
            self.arguments(value, path, target, registry, extra)


def _sections(cfg: Config, check: _Checker) -> None:
    """The Runner's sections, each with what builds it."""
    from mmengine.registry import build_scheduler_from_cfg
    from mmengine.optim.optimizer.builder import build_optim_wrapper
    from mmengine.runner import (EpochBasedTrainLoop, IterBasedTrainLoop, Runner, TestLoop,
                                 ValLoop)
    from torch.utils.data import DataLoader

    from bigfix_mm.registry import DATASETS, HOOKS, METRICS, MODELS
    from mmagic.registry import (LOG_PROCESSORS, LOOPS, MODEL_WRAPPERS, OPTIM_WRAPPERS,
                                 PARAM_SCHEDULERS, VISUALIZERS)
    from mmengine.runner import LogProcessor
    from mmengine.optim import OptimWrapper
    from mmengine.visualization import Visualizer
    loader_keys = keys_read(Runner.build_dataloader, ('dataloader_cfg', ))
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if isinstance(cfg.get(split), dict):
            check.arguments(cfg[split], split, DataLoader, DATASETS, loader_keys)
    train_cfg = cfg.get('train_cfg')
    by_epoch = isinstance(train_cfg, dict) and train_cfg.get('by_epoch', True)
    loops = (('train_cfg', EpochBasedTrainLoop if by_epoch else IterBasedTrainLoop,
              Runner.build_train_loop), ('val_cfg', ValLoop, Runner.build_val_loop),
             ('test_cfg', TestLoop, Runner.build_test_loop))
    for key, default, builder in loops:
        check.typed_or(cfg.get(key), key, default, LOOPS, keys_read(builder, ('loop_cfg', )))
    optim = cfg.get('optim_wrapper')
    wrapper_keys = keys_read(build_optim_wrapper, ('optim_wrapper_cfg', ))
    if isinstance(optim, dict) and optim.get('constructor', 'DefaultOptimWrapperConstructor') \
            == 'DefaultOptimWrapperConstructor':
        check.typed_or(optim, 'optim_wrapper', OptimWrapper, OPTIM_WRAPPERS, wrapper_keys)
    else:  # another constructor (e.g. one wrapper per sub-model): the wrappers inside
        check.inside(optim, 'optim_wrapper', OPTIM_WRAPPERS)
    schedulers = cfg.get('param_scheduler')
    schedulers = schedulers if isinstance(schedulers, (list, tuple)) else [schedulers]
    scheduler_keys = keys_read(build_scheduler_from_cfg, ('args', ))
    for i, scheduler in enumerate(schedulers):
        check.typed_or(scheduler, f'param_scheduler[{i}]', None, PARAM_SCHEDULERS,
                       scheduler_keys)
    hook_keys = keys_read(Runner.register_hook, ('hook', ))  # priority
    hooks = [(f'default_hooks.{name}', hook) for name, hook in
             (cfg.get('default_hooks') or {}).items()]
    hooks += [(f'custom_hooks[{i}]', hook) for i, hook in enumerate(cfg.get('custom_hooks') or [])]
    for path, hook in hooks:
        check.typed_or(hook, path, None, HOOKS, hook_keys)
    for key in ('val_evaluator', 'test_evaluator'):
        check.inside(cfg.get(key), key, METRICS)
    check.typed_or(cfg.get('visualizer'), 'visualizer', Visualizer, VISUALIZERS)
    check.typed_or(cfg.get('log_processor'), 'log_processor', LogProcessor, LOG_PROCESSORS)
    check.inside(cfg.get('model_wrapper_cfg'), 'model_wrapper_cfg', MODEL_WRAPPERS)
    if isinstance(cfg.get('randomness'), dict):
        check.arguments(cfg.randomness, 'randomness', Runner.set_randomness)
    for key in ('model', 'data_preprocessor'):
        check.inside(cfg.get(key), key, MODELS)


# ---------------------------------------------------------------------- top level
def runner_keys(cfg: Config) -> FrozenSet[str]:
    """Top-level keys the runner reads: its constructor's arguments and the
    ``cfg.get('...')`` keys of its source (``from_cfg``, ``model_wrapper_cfg``, ...)."""
    from mmengine.runner import Runner
    kind = cfg.get(RUNNER_TYPE_KEY)
    runner = _lookup(kind) if isinstance(kind, str) else Runner
    runner = runner if inspect.isclass(runner) else Runner
    keys: Set[str] = set(accepted_arguments(runner) or ())
    for klass in runner.__mro__:
        if klass is not object:
            keys |= keys_read(klass, ('cfg', ))
    return frozenset(keys)


def _top_level(cfg: Config, check: _Checker, project_keys: Iterable[str],
               dump_marker: Optional[str]) -> None:
    from bigfix_mm.engine.config_files import config_files, config_variables
    read_by_code = runner_keys(cfg) | {RUNNER_TYPE_KEY, 'custom_imports', *project_keys}
    path = cfg.filename
    files = config_files(path) if path and Path(path).is_file() else []
    defined, variables_read = config_variables(files) if files else (set(cfg.keys()), set())
    dumped = dump_marker in defined  # a run's dump: checked when the run started
    for key, value in cfg.items():
        if key in read_by_code:
            continue
        hint = _nearest(key, read_by_code)
        if key not in defined:
            check.problems.append(f'{key}: no config file sets it (a --cfg-options key?) and '
                                  f'neither the runner nor bigfix_mm reads it ({hint})')
        elif key not in variables_read and not dumped and \
                difflib.get_close_matches(key, sorted(read_by_code), n=1, cutoff=CLOSE_TYPO):
            check.problems.append(f'{key}: not a runner or bigfix_mm key, nor used by the config '
                                  f'files ({hint})')


def unknown_key_problems(cfg: Config, project_keys: Iterable[str] = (),
                         dump_marker: Optional[str] = None) -> List[str]:
    """One message per key that no component reads (see the module docstring).

    Args:
        cfg: the config, ``--cfg-options`` merged.
        project_keys: top-level keys bigfix_mm reads besides the runner's (their owners
            hold them: :data:`bigfix_mm.engine.config_checks.PROJECT_KEYS`).
        dump_marker: a top-level key only a run's dump assigns (the typo rule is not
            applied to a dump).
    """
    check = _Checker()
    _top_level(cfg, check, project_keys, dump_marker)
    _sections(cfg, check)
    return check.problems


def model_key_problems(cfg: Config) -> List[str]:
    """The same for the ``model`` section alone (what ``init_model`` builds)."""
    from bigfix_mm.registry import MODELS
    check = _Checker()
    check.inside(cfg.get('model'), 'model', MODELS)
    return check.problems
