"""Training and sampling throughput of BIGFix models, on CPU or GPU.

Everything here is built from classes, not registry look-ups, so it runs where
``mmagic.models`` / ``mmagic.evaluation`` cannot be imported (e.g. mmcv without
compiled ops): it needs torch, mmengine and the pure-Python parts of mmagic.
``tools/benchmark.py`` is the command-line front end.
"""
import contextlib
import platform
import re
import resource
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from bigfix_mm.models.editors.bigfix.bigfix import BIGFix
from bigfix_mm.models.editors.bigfix.data_preprocessor import TokenDataPreprocessor
from bigfix_mm.models.editors.bigfix import sampler as sampler_classes
from bigfix_mm.models.editors.bigfix.sampler.presets import FIXING_TWINS, SAMPLER_PRESETS, sampler_config
from bigfix_mm.models.editors.bigfix.sampler.token_sampler import TokenSampler
from bigfix_mm.models.editors.bigfix.transformer import TRANSFORMER_SIZES, BidirectionalTransformer


DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def parse_size(size: str) -> Tuple[int, int, int]:
    """A name of :data:`TRANSFORMER_SIZES` or ``'WIDTHxDEPTHxHEADS'`` -> (W, D, H)."""
    if size in TRANSFORMER_SIZES:
        return TRANSFORMER_SIZES[size]
    match = re.fullmatch(r'(\d+)x(\d+)x(\d+)', size)
    if match is None:
        raise ValueError(f'size={size!r}: give one of {sorted(TRANSFORMER_SIZES)} or '
                         "WIDTHxDEPTHxHEADS, e.g. '64x2x2'")
    return tuple(int(g) for g in match.groups())  # type: ignore[return-value]


def build_transformer(size: str,
                      grid: Sequence[int] = (16, 16),
                      codebook_size: int = 16384,
                      num_classes: int = 1000,
                      grad_checkpointing: bool = False,
                      head: Optional[dict] = None) -> BidirectionalTransformer:
    """A randomly initialised transformer of a named (or ``WxDxH``) size; ``head``: its
    output head config (default the tied softmax)."""
    width, depth, heads = parse_size(size)
    return BidirectionalTransformer(codebook_size, grid=grid, num_classes=num_classes, size=None,
                                    width=width, depth=depth, heads=heads,
                                    grad_checkpointing=grad_checkpointing, head=head)


def head_costs(width: int, bits: Sequence[int], bit_head: Optional[dict] = None) -> List[dict]:
    """Parameters and per-token FLOPs of the softmax and the masked-bit head at K = 2^b.

    Analytic (:meth:`TokenHead.cost`; the heads are built without their K-row tables,
    so K = 2^32 costs nothing to evaluate). ``params`` counts the input embedding and
    the output; FLOPs are per token (multiply-add = 2): ``train`` one output
    evaluation, ``sample`` one draw (the bit head: ``steps`` bit passes).
    """
    from bigfix_mm.models.editors.bigfix.heads import MaskedBitHead, SoftmaxHead
    rows = []
    for b in bits:
        for name, head in (('softmax', SoftmaxHead(2**b, width)),
                           ('bit', MaskedBitHead(2**b, width, **(bit_head or {})))):
            cost = head.cost()
            rows.append(dict(head=name, bits=b, codebook_size=2**b, width=width,
                             params=cost['params'], train_flops=cost['train_flops'],
                             sample_flops=cost['sample_flops']))
    return rows


def forward_flops(transformer: BidirectionalTransformer) -> float:
    """Matrix-product FLOPs of one forward pass for one sample (multiply-add = 2).

    Per block: the token-wise projections (qkv, out, SwiGLU) over L = N + registers
    tokens, attention ``4 L^2 inner`` (QK^T and AV) and the per-sample adaLN
    projection; plus the final adaLN and the output head over N tokens (tied
    (K + 1)-way softmax, or the bit head's one training pass).
    Training counts 3x this (forward + backward), the usual MFU convention.
    """
    num = transformer.num_tokens
    regs = 0 if transformer.registers is None else transformer.registers.shape[0]
    length = num + regs
    total = 0.0
    for block in transformer.blocks:
        token_wise = (block.attn.qkv, block.attn.proj, block.mlp.w_gate, block.mlp.w_up,
                      block.mlp.w_down)
        per_token = sum(m.weight.numel() for m in token_wise)
        total += 2 * length * per_token + 4 * length**2 * block.attn.inner
        total += 2 * block.ada[1].weight.numel()
    total += 2 * transformer.final_ada[1].weight.numel()
    total += num * transformer.head.cost()['train_flops']  # softmax: 2 D (K + 1) per token
    return float(total)


def head_name(head: Optional[dict]) -> str:
    """'softmax' / 'bit' for a head config (its ``type`` a name or a class)."""
    if head is None:
        return 'softmax'
    name = head['type'] if isinstance(head['type'], str) else head['type'].__name__
    return {'SoftmaxHead': 'softmax', 'MaskedBitHead': 'bit'}.get(name, name)


def device_info(device: torch.device) -> dict:
    """Name of the device, torch version and CPU threads, for the JSON lines."""
    if device.type == 'cuda':
        name = torch.cuda.get_device_name(device)
    else:
        name = platform.processor() or platform.machine()
    return dict(device=str(device), device_name=name, torch=torch.__version__,
                threads=torch.get_num_threads())


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _reset_peak(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)


def _peak_gib(device: torch.device) -> Dict[str, Optional[float]]:
    """GPU: peak allocated memory of this case; CPU: the process's peak RSS so far."""
    if device.type == 'cuda':
        return dict(peak_mem_gib=round(torch.cuda.max_memory_allocated(device) / 2**30, 3))
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return dict(peak_mem_gib=None, process_peak_rss_gib=round(rss_kib / 2**20, 3))


def _autocast(device: torch.device, dtype: torch.dtype, cache_enabled: bool = True):
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype, cache_enabled=cache_enabled)


def _mfu(flops_per_s: float, peak_tflops: Optional[float]) -> Optional[float]:
    return None if not peak_tflops else _sig(flops_per_s / (peak_tflops * 1e12))


def _sig(value: float, digits: int = 4) -> float:
    """Round to ``digits`` significant digits (TFLOP/s of tiny CPU models stay visible)."""
    return float(f'{value:.{digits}g}')


# --------------------------------------------------------------------- training
def bench_training(size: str = 'large',
                   batch_size: int = 64,
                   grid: Sequence[int] = (16, 16),
                   codebook_size: int = 16384,
                   num_classes: int = 1000,
                   dtype: str = 'bf16',
                   compile: Union[bool, dict] = False,
                   grad_checkpointing: bool = False,
                   iters: int = 20,
                   warmup: int = 5,
                   device: Union[str, torch.device] = 'cuda',
                   peak_tflops: Optional[float] = None,
                   fused_adamw: Optional[bool] = None,
                   seed: int = 0,
                   head: Optional[dict] = None) -> dict:
    """Images/s of ``BIGFix.train_step`` with MMEngine's optimizer wrapper.

    The real training step: device-side injection, label dropout, CE loss,
    backward, grad clipping 1.0 and AdamW (the paper's settings). bf16 on CUDA
    goes through ``AmpOptimWrapper(dtype='bfloat16')`` without loss scaling
    (bf16 has fp32's exponent range); on CPU through ``torch.autocast``.

    Returns:
        one flat dict (a JSON line), ``case='train'``.
    """
    device = torch.device(device)
    cast = DTYPES[dtype]
    torch.manual_seed(seed)
    transformer = build_transformer(size, grid, codebook_size, num_classes, grad_checkpointing,
                                    head)
    model = BIGFix(transformer=transformer, data_preprocessor=TokenDataPreprocessor(),
                   compile=compile).to(device).train()
    wrapper, outer_cast = _optim_wrapper(model, device, cast, fused_adamw)
    gen = torch.Generator(device=device).manual_seed(seed)
    tokens = torch.randint(0, codebook_size, (batch_size, *grid), generator=gen, device=device)
    labels = torch.randint(0, num_classes, (batch_size, ), generator=gen, device=device)
    data = dict(inputs=dict(tokens=tokens, labels=labels), data_samples=None)

    def step():
        with outer_cast:
            model.train_step(data, wrapper)

    _reset_peak(device)
    seconds = _time_loop(step, iters, warmup, device)
    img_s = batch_size * iters / seconds
    flops = 3 * forward_flops(transformer) * img_s
    return dict(case='train', size=size, head=head_name(head),
                params_m=round(transformer.num_parameters() / 1e6, 2),
                batch=batch_size, grid=list(transformer.grid), codebook_size=codebook_size,
                dtype=dtype, compile=bool(compile), grad_checkpointing=grad_checkpointing,
                iters=iters, seconds=round(seconds, 4), img_per_s=round(img_s, 2),
                tokens_per_s=round(img_s * transformer.num_tokens, 1),
                gflop_per_img=_sig(3 * forward_flops(transformer) / 1e9), tflops=_sig(flops / 1e12),
                mfu=_mfu(flops, peak_tflops), **_peak_gib(device),
                **device_info(device))


def _optim_wrapper(model: nn.Module, device: torch.device, cast: torch.dtype,
                   fused_adamw: Optional[bool]):
    """(MMEngine optimizer wrapper, extra autocast context for CPU)."""
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    fused = device.type == 'cuda' if fused_adamw is None else fused_adamw
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999),
                                  weight_decay=0.03, fused=fused or None)
    clip = dict(max_norm=1.0)
    if cast != torch.float32 and device.type == 'cuda':
        # bf16 needs no loss scaling; fp16 keeps the dynamic scaler
        scale = dict(enabled=False) if cast == torch.bfloat16 else 'dynamic'
        return AmpOptimWrapper(optimizer=optimizer, clip_grad=clip, dtype=cast,
                               loss_scale=scale), contextlib.nullcontext()
    return OptimWrapper(optimizer=optimizer, clip_grad=clip), _autocast(device, cast)


def _time_loop(fn: Callable[[], object], iters: int, warmup: int, device: torch.device) -> float:
    for _ in range(warmup):
        fn()
    _sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    _sync(device)
    return time.perf_counter() - start


# --------------------------------------------------------------------- sampling
def build_sampler(name: str, steps: int, cfg_scale: float) -> TokenSampler:
    """A preset of :data:`~bigfix_mm.models.editors.bigfix.sampler.presets.SAMPLER_PRESETS` with
    ``steps`` and ``cfg_scale``, built from its class (no registry look-up, which
    would import all of ``mmagic.models``)."""
    cfg = sampler_config(name, steps=steps, cfg_scale=cfg_scale)
    return getattr(sampler_classes, cfg.pop('type'))(**cfg)


def bench_sampling(size: str = 'large',
                   samplers: Sequence[str] = ('halton', 'fix_low'),
                   batch_size: int = 64,
                   steps: int = 32,
                   cfg_scale: float = 1.5,
                   grid: Sequence[int] = (16, 16),
                   codebook_size: int = 16384,
                   num_classes: int = 1000,
                   dtype: str = 'bf16',
                   bf16_weights: bool = False,
                   compile: Union[bool, dict] = False,
                   cuda_graphs: bool = False,
                   repeats: int = 5,
                   warmup: int = 2,
                   device: Union[str, torch.device] = 'cuda',
                   peak_tflops: Optional[float] = None,
                   seed: int = 0,
                   head: Optional[dict] = None) -> List[dict]:
    """Images/s of each sampler on one randomly initialised model.

    Samplers are timed round-robin (one call each per round, ``repeats``
    rounds), so a noisy host affects them alike; the median call is reported.
    With a nonzero ``cfg_scale`` each step runs the doubled (2B) batch.

    Args:
        bf16_weights: cast the weights to ``dtype`` instead of autocasting.
        compile: ``torch.compile`` the transformer (True or torch.compile kwargs).
        cuda_graphs: capture each whole sampler call (all steps) in one CUDA
            graph after warm-up and time graph replays.

    Returns:
        one dict per sampler (``case='sample'``) and, for every fixing sampler
        timed with ``halton``, a ``case='sample_relative'`` dict of their ratio.
    """
    device = torch.device(device)
    if cuda_graphs and device.type != 'cuda':
        raise ValueError('cuda_graphs=True (--cuda-graphs) needs a CUDA device; use --device cuda')
    if cuda_graphs and isinstance(compile, dict) and 'reduce-overhead' in str(compile.get('mode')):
        raise ValueError("--cuda-graphs captures the whole loop itself; drop --compile-mode "
                         "reduce-overhead (which graphs each forward) or --cuda-graphs")
    cast = DTYPES[dtype]
    torch.manual_seed(seed)
    transformer = build_transformer(size, grid, codebook_size, num_classes,
                                    head=head).to(device).eval()
    transformer.requires_grad_(False)
    if bf16_weights and cast != torch.float32:
        transformer.to(cast)
    net = transformer
    if compile:
        net = torch.compile(transformer, **(compile if isinstance(compile, dict) else {}))
    labels = torch.randint(0, num_classes, (batch_size, ), device=device,
                           generator=torch.Generator(device=device).manual_seed(seed))
    fwd = forward_flops(transformer) * (2 if cfg_scale else 1) * steps  # per image

    runs = {}
    for name in samplers:
        sampler = build_sampler(name, steps, cfg_scale)
        gen = torch.Generator(device=device).manual_seed(seed)
        use_cast = cast if not bf16_weights else torch.float32

        def call(sampler=sampler, gen=gen, use_cast=use_cast):
            with _autocast(device, use_cast, cache_enabled=not cuda_graphs):
                return sampler(net, labels, generator=gen)

        runs[name] = _capture(call, gen, warmup, device) if cuda_graphs else call

    memory = {}
    for name, fn in runs.items():  # warm-up (compilation happens here), then peak memory
        for _ in range(warmup if not cuda_graphs else 1):
            fn()
        _sync(device)
        _reset_peak(device)
        fn()
        _sync(device)
        memory[name] = _peak_gib(device)
    times: Dict[str, List[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - start)

    out = []
    common = dict(size=size, head=head_name(head),
                  params_m=round(transformer.num_parameters() / 1e6, 2), batch=batch_size, steps=steps, cfg_scale=cfg_scale,
                  forward_batch=batch_size * (2 if cfg_scale else 1), grid=list(transformer.grid),
                  codebook_size=codebook_size, dtype=dtype, bf16_weights=bf16_weights,
                  compile=bool(compile), cuda_graphs=cuda_graphs, repeats=repeats)
    for name, secs in times.items():
        med = statistics.median(secs)
        img_s = batch_size / med
        out.append(dict(case='sample', sampler=name, **common, seconds_median=round(med, 5),
                        seconds_min=round(min(secs), 5), img_per_s=round(img_s, 3),
                        ms_per_step=round(1e3 * med / steps, 3),
                        gflop_per_img=_sig(fwd / 1e9), tflops=_sig(fwd * img_s / 1e12),
                        mfu=_mfu(fwd * img_s, peak_tflops),
                        **memory[name], **device_info(device)))
    if 'halton' in times:
        base = statistics.median(times['halton'])
        for name in FIXING_TWINS:  # each fixing preset against plain Halton
            if name in times and FIXING_TWINS[name] == 'halton':
                ratios = [f / h for f, h in zip(times[name], times['halton'])]
                ratio = statistics.median(times[name]) / base
                out.append(dict(case='sample_relative', sampler=name, baseline='halton', size=size,
                                batch=batch_size, steps=steps, cfg_scale=cfg_scale,
                                time_ratio=round(ratio, 4),
                                overhead_pct=round(100 * (ratio - 1), 2),
                                paired_ratio_median=round(statistics.median(ratios), 4),
                                device=str(device)))
    return out


def _capture(call: Callable[[], torch.Tensor], gen: torch.Generator, warmup: int,
             device: torch.device) -> Callable[[], torch.Tensor]:
    """Capture ``call`` (a whole sampling run) in a CUDA graph; return its replay."""
    stream = torch.cuda.Stream(device)
    stream.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(stream):  # warm-up: compilation, caches, allocator
        for _ in range(max(warmup, 1)):
            call()
    torch.cuda.current_stream(device).wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    graph.register_generator_state(gen)  # each replay draws fresh numbers from gen
    with torch.cuda.graph(graph):
        out = call()

    def replay() -> torch.Tensor:
        graph.replay()
        return out

    return replay
