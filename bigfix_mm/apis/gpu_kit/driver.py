"""Run the checks of :mod:`bigfix_mm.apis.gpu_kit.cases`, each in a child process with
its own time limit, and report one JSON line per check and a summary table.

Why a process per check rather than one process with ``signal.alarm``: a hung CUDA
call or an Inductor compile does not return to Python, so an alarm's exception never
arrives; a CUDA error (an illegal access, say) poisons the process's CUDA context for
every later check; and each check's peak memory (``torch.cuda.max_memory_allocated``)
and compile caches start clean. A child that passes its limit is killed with its whole
process group (the training checks' ``tools/train.py`` runs and loader workers
included) and reported as ``timeout``; the next check starts regardless. Each check's
limit is also cut to what is left of the total budget.

A child (``python -m bigfix_mm.apis.gpu_kit.driver --child NAME ...``) writes its rows
to ``<work>/<name>/result.jsonl`` and its output to ``<work>/<name>/log.txt``.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import List, Optional, Sequence

from .cases import CASE_BY_NAME, Case, CaseContext



def child_env() -> dict:
    """This process's environment, with the folder this ``bigfix_mm`` (and, after
    ``--install-from``, the carried stack) was imported from first on PYTHONPATH, so that
    every child imports the same code whatever its working directory."""
    import bigfix_mm
    root = str(Path(bigfix_mm.__file__).resolve().parents[1])
    paths = [root] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(dict.fromkeys(paths)),
                PYTHONUNBUFFERED='1')


def run_case(case: Case, ctx: CaseContext, limit_s: float) -> dict:
    """Run one check in a child process; its JSON line (``check``, ``status``, ...)."""
    work = ctx.work_dir / case.name
    shutil.rmtree(work, ignore_errors=True)  # the last run's scratch (checkpoints would resume)
    work.mkdir(parents=True)
    result, log = work / 'result.jsonl', work / 'log.txt'
    result.unlink(missing_ok=True)
    line = dict(check=case.name, limit_s=round(limit_s, 1))
    if case.needs_cuda and not ctx.device.startswith('cuda'):
        return dict(line, status='skipped', wall_s=0.0, reason=f'needs CUDA (device {ctx.device})')
    cmd = [sys.executable, '-m', 'bigfix_mm.apis.gpu_kit.driver', '--child', case.name,
           '--device', ctx.device, '--work-dir', str(work), '--result', str(result),
           '--repo', str(ctx.repo)]
    if ctx.tiny:
        cmd.append('--tiny')
    if ctx.peak_tflops:
        cmd += ['--peak-tflops', str(ctx.peak_tflops)]
    start = time.perf_counter()
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=str(work),
                                env=child_env(), start_new_session=True)
        try:
            code = proc.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _kill_group(proc)
    line['wall_s'] = round(time.perf_counter() - start, 1)
    rows = [json.loads(x) for x in result.read_text().splitlines()] if result.exists() else []
    if code is None:
        return dict(line, status='timeout', rows=rows, log=str(log),
                    error=f'killed after {limit_s:.0f} s; end of the log:\n' + _tail(log))
    if code != 0:
        return dict(line, status='failed', rows=rows, log=str(log),
                    error=f'exit status {code}; end of the log:\n' + _tail(log))
    bad = [row for row in rows if row.get('ok') is False]
    status = 'failed' if bad or not rows else 'ok'
    return dict(line, status=status, rows=rows, **({'log': str(log)} if bad else {}))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _tail(log: Path, chars: int = 2500) -> str:
    return log.read_text(errors='replace')[-chars:] if log.exists() else ''


def run_checks(names: Sequence[str], ctx: CaseContext, budget_s: float,
               out: Optional[Path] = None, echo=print) -> List[dict]:
    """Run the named checks in order within ``budget_s`` seconds in all; ``echo`` each
    JSON line as it is done (and append it to ``out``). The ``device`` check's measured
    rate becomes ``ctx.peak_tflops`` unless one was given."""
    deadline = time.perf_counter() + budget_s
    lines = []
    for name in names:
        case = CASE_BY_NAME[name]
        left = deadline - time.perf_counter()
        limit = min(case.tiny_limit_s if ctx.tiny else case.limit_s, left)
        if limit < 5:
            line = dict(check=name, status='skipped', wall_s=0.0,
                        reason=f'the total budget of {budget_s:.0f} s is spent')
        else:
            line = run_case(case, ctx, limit)
        if name == 'device' and line['status'] == 'ok' and ctx.peak_tflops is None:
            ctx.peak_tflops = line['rows'][0]['peak_tflops']
        text = json.dumps(line)
        echo(text)
        if out is not None:
            with open(out, 'a') as f:
                f.write(text + '\n')
        lines.append(line)
    return lines


def summary_table(lines: List[dict]) -> str:
    """One row per measured line: check, status, wall time and the headline figures."""
    head = ('check', 'status', 'wall s', 'what', 'img/s', 'tokens/s', 'MFU', 'peak GiB', 'notes')
    table = [head]
    for line in lines:
        rows = line.get('rows') or [{}]
        for i, row in enumerate(rows):
            what = ' '.join(str(row[k]) for k in ('size', 'sampler', 'variant') if row.get(k))
            notes = _notes(row)
            if i == 0 and line['status'] != 'ok':  # why, before any figures
                why = line.get('reason') or (line.get('error') or '').split('\n', 1)[0]
                notes = ' '.join(filter(None, (why[:60], notes)))
            table.append((line['check'] if i == 0 else '', line['status'] if i == 0 else '',
                          str(line.get('wall_s', '')) if i == 0 else '', what,
                          _fmt(row.get('img_per_s')), _fmt(row.get('tokens_per_s')),
                          _fmt(row.get('mfu')), _fmt(row.get('peak_mem_gib')), notes))
    widths = [max(len(r[c]) for r in table) for c in range(len(head))]
    return '\n'.join('  '.join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip()
                     for r in table)


def _fmt(value) -> str:
    return '' if value is None else f'{value:g}' if isinstance(value, float) else str(value)


def _notes(row: dict) -> str:
    keys = {'device': ('device_name', 'peak_tflops'), 'sample_relative': ('time_ratio', ),
            'resume': ('losses_equal', 'resumed_max_abs_diff', 'rerun_max_abs_diff',
                       'rng_sensitive'),
            'fsdp': ('loss_step1', 'loss_step2', 'checkpoint_gib'),
            'agreement': ('identical', 'agreement', 'max_abs_diff')}.get(row.get('case'), ())
    return ' '.join(f'{k}={_fmt(row[k])}' for k in keys if k in row)


def child_main(argv: Optional[Sequence[str]] = None) -> None:
    """One check in this process (``--child NAME``): its rows to ``--result``."""
    p = argparse.ArgumentParser()
    p.add_argument('--child', required=True, choices=sorted(CASE_BY_NAME))
    p.add_argument('--device', required=True)
    p.add_argument('--work-dir', required=True, type=Path)
    p.add_argument('--result', required=True, type=Path)
    p.add_argument('--repo', required=True, type=Path)
    p.add_argument('--tiny', action='store_true')
    p.add_argument('--peak-tflops', type=float)
    args = p.parse_args(argv)
    if args.device.startswith('cuda'):
        import torch
        torch.set_float32_matmul_precision('high')  # as tools/benchmark.py
    ctx = CaseContext(args.device, args.tiny, args.work_dir, args.repo, args.peak_tflops)
    try:
        rows = CASE_BY_NAME[args.child].run(ctx)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    with open(args.result, 'w') as f:
        for row in rows:
            f.write(json.dumps(row) + '\n')


if __name__ == '__main__':
    child_main()
