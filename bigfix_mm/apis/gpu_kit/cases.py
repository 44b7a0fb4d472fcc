"""The checks of ``tools/gpu_check.py``, each a function of a :class:`CaseContext` that
returns JSON-able rows, with its time limits.

Full shapes are the reference setting of ``docs/performance.md`` (16x16 tokens,
K = 16,384, bf16; training sizes large and base at batch 64; sampling size large, 64
images, 32 steps, CFG 1.5, presets ``halton``, ``fix_all``, ``fix_low``). ``tiny``
runs every check on shapes that take seconds on a CPU (the rehearsal, see
``tests/tools/test_gpu_check.py``): WxDxH stand-ins for the sizes, 4x4 tokens, fp32,
and ``torch.compile`` with the ``aot_eager`` backend (traced, no code generation).
"""
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch

from bigfix_mm.apis.benchmark import bench_sampling, bench_training, device_info

SAMPLERS = ('halton', 'fix_all', 'fix_low')


@dataclass
class CaseContext:
    """Where and how a check runs. ``repo``: the checkout (its configs and tools/train.py);
    ``peak_tflops``: the device's matrix rate for MFU."""
    device: str
    tiny: bool
    work_dir: Path
    repo: Path
    peak_tflops: Optional[float] = None


@dataclass(frozen=True)
class Case:
    """One check: ``limit_s`` / ``tiny_limit_s`` are its time limits (full / tiny shapes;
    the times expected on a GPU are in docs/performance.md, "On a GPU machine")."""
    name: str
    run: Callable[[CaseContext], List[dict]]
    limit_s: float
    tiny_limit_s: float = 240.0
    needs_cuda: bool = False


def _shapes(ctx: CaseContext) -> dict:
    if ctx.tiny:
        return dict(grid=(4, 4), codebook_size=64, num_classes=10, dtype='fp32')
    return dict(grid=(16, 16), codebook_size=16384, num_classes=1000, dtype='bf16')


def _compile(ctx: CaseContext):
    return dict(backend='aot_eager') if ctx.tiny else True


def _size(ctx: CaseContext, size: str) -> str:
    """The size, or its tiny stand-in."""
    return {'large': '64x2x2', 'base': '32x2x2'}[size] if ctx.tiny else size


def device_peak(ctx: CaseContext) -> List[dict]:
    """The device's measured matrix rate (the MFU denominator of the other checks): the
    mean of 10 bf16 8192^3 products on random data after 3 warm-ups (the measurement
    behind the 798 TFLOP/s of an H100 in docs/performance.md); fp32 512^3 on a CPU."""
    dev = torch.device(ctx.device)
    n, dtype = (512, torch.float32) if dev.type == 'cpu' else (8192, torch.bfloat16)
    a = torch.randn(n, n, device=dev, dtype=dtype)
    b = torch.randn(n, n, device=dev, dtype=dtype)
    for _ in range(3):
        a @ b
    if dev.type == 'cuda':
        torch.cuda.synchronize(dev)
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    if dev.type == 'cuda':
        torch.cuda.synchronize(dev)
    seconds = (time.perf_counter() - start) / 10
    extra = {}
    if dev.type == 'cuda':
        props = torch.cuda.get_device_properties(dev)
        extra = dict(memory_gib=round(props.total_memory / 2**30, 1),
                     multiprocessors=props.multi_processor_count,
                     capability=f'{props.major}.{props.minor}')
    return [dict(case='device', matmul=f'{n}^3 {str(dtype).split(".")[-1]}',
                 peak_tflops=round(2 * n**3 / seconds / 1e12, 3), **extra,
                 **device_info(dev), **stack_info())]


def stack_info() -> dict:
    """Versions of the stack as imported, and what ``import bigfix_mm`` had to mend."""
    import mmagic
    import mmcv
    import mmengine
    import numpy
    import bigfix_mm
    from bigfix_mm.utils.stack_compat import mmcv_has_ops
    return dict(python=platform.python_version(), numpy=numpy.__version__,
                mmengine=mmengine.__version__, mmcv=mmcv.__version__, mmagic=mmagic.__version__,
                mmcv_ops=mmcv_has_ops(), bigfix_mm_from=str(Path(bigfix_mm.__file__).parent),
                stack_mends=bigfix_mm.STACK_MENDS)


def _train(size: str, compiled: bool) -> Callable[[CaseContext], List[dict]]:
    def run(ctx: CaseContext) -> List[dict]:
        loop = dict(batch_size=4, iters=2, warmup=1) if ctx.tiny else dict(
            batch_size=64, iters=20, warmup=3 if compiled else 5)
        return [bench_training(_size(ctx, size), **loop, **_shapes(ctx),
                               compile=_compile(ctx) if compiled else False,
                               device=ctx.device, peak_tflops=ctx.peak_tflops)]
    return run


def _sample(compiled: bool, graphs: bool = False) -> Callable[[CaseContext], List[dict]]:
    def run(ctx: CaseContext) -> List[dict]:
        loop = dict(batch_size=2, steps=4, repeats=2, warmup=1) if ctx.tiny else dict(
            batch_size=64, steps=32, repeats=2, warmup=1)
        # the CUDA-graph line as docs/performance.md runs it: compiled, bf16 weights
        return bench_sampling(_size(ctx, 'large'), samplers=SAMPLERS, cfg_scale=1.5, **loop,
                              **_shapes(ctx), compile=_compile(ctx) if compiled else False,
                              cuda_graphs=graphs, bf16_weights=graphs, device=ctx.device,
                              peak_tflops=ctx.peak_tflops)
    return run


def _resume(ctx: CaseContext) -> List[dict]:
    from .training import FULL, TINY, resume_check
    return resume_check(ctx.repo, ctx.work_dir, TINY if ctx.tiny else FULL, ctx.device)


def _fsdp(ctx: CaseContext) -> List[dict]:
    from .training import FULL, TINY, fsdp_check
    return fsdp_check(ctx.repo, ctx.work_dir, TINY if ctx.tiny else FULL, ctx.device)


def _agreement(ctx: CaseContext) -> List[dict]:
    from .agreement import sampler_agreement
    return sampler_agreement(ctx.device)


# In running order: the cheap and the correctness checks first, the compiling ones last,
# so that a slow compile cannot starve the others of the total budget.
CASES: List[Case] = [
    Case('device', device_peak, limit_s=45, tiny_limit_s=60),
    Case('train_eager_large', _train('large', False), limit_s=75),
    Case('train_eager_base', _train('base', False), limit_s=60),
    Case('sample_eager', _sample(False), limit_s=120),
    Case('agreement', _agreement, limit_s=60),
    Case('resume', _resume, limit_s=150, tiny_limit_s=600),
    Case('fsdp', _fsdp, limit_s=120, tiny_limit_s=450),
    Case('train_compiled_large', _train('large', True), limit_s=180),
    Case('train_compiled_base', _train('base', True), limit_s=150),
    Case('sample_compiled', _sample(True), limit_s=150),
    Case('sample_cuda_graphs', _sample(True, graphs=True), limit_s=120,
         needs_cuda=True),
]
CASE_BY_NAME: Dict[str, Case] = {case.name: case for case in CASES}
