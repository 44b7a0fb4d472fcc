"""The kit's driver: a check per child process, its time limit, the total budget, the table."""
import json

import pytest

from bigfix_mm.apis.gpu_kit.cases import CASE_BY_NAME, CaseContext
from bigfix_mm.apis.gpu_kit.driver import run_case, run_checks, summary_table

from tests.conftest import REPO


def _ctx(tmp_path, device='cpu') -> CaseContext:
    return CaseContext(device, True, tmp_path, REPO)


def test_a_check_past_its_limit_is_killed_and_reported(tmp_path):
    # the child cannot even import torch in 0.3 s
    line = run_case(CASE_BY_NAME['device'], _ctx(tmp_path), limit_s=0.3)
    assert line['status'] == 'timeout' and line['wall_s'] < 10
    assert 'killed after 0 s' in line['error']


@pytest.mark.slow  # a child process importing the stack (about 20 s on a loaded machine)
def test_the_device_check_runs_in_a_child_and_sets_the_peak(tmp_path):
    ctx = _ctx(tmp_path)
    printed = []
    lines = run_checks(['device', 'sample_cuda_graphs'], ctx, budget_s=300,
                       out=tmp_path / 'out.jsonl', echo=printed.append)
    assert [line['status'] for line in lines] == ['ok', 'skipped']
    assert lines[1]['reason'] == 'needs CUDA (device cpu)'
    row = lines[0]['rows'][0]
    assert row['case'] == 'device' and row['peak_tflops'] > 0 and row['mmcv_ops'] is True
    assert ctx.peak_tflops == row['peak_tflops']  # the MFU denominator of later checks
    assert [json.loads(t) for t in printed] == [
        json.loads(t) for t in (tmp_path / 'out.jsonl').read_text().splitlines()]


def test_checks_past_the_total_budget_are_skipped(tmp_path):
    lines = run_checks(['device', 'resume'], _ctx(tmp_path), budget_s=1, echo=lambda t: None)
    assert [line['status'] for line in lines] == ['skipped', 'skipped']
    assert 'total budget of 1 s is spent' in lines[0]['reason']


def test_summary_table_has_a_row_per_result():
    lines = [dict(check='train_eager_large', status='ok', wall_s=3.0, rows=[
                 dict(case='train', size='large', img_per_s=900.0, tokens_per_s=230400.0,
                      mfu=0.55, peak_mem_gib=26.7)]),
             dict(check='resume', status='failed', wall_s=9.0, rows=[],
                  error='exit status 1; end of the log:\nTraceback ...'),
             dict(check='fsdp', status='failed', wall_s=5.0, rows=[
                 dict(case='fsdp', loss_step1=5.0, loss_step2=None, ok=False)])]
    table = summary_table(lines).splitlines()
    assert table[0].split() == ['check', 'status', 'wall', 's', 'what', 'img/s', 'tokens/s',
                                'MFU', 'peak', 'GiB', 'notes']
    assert table[1].split() == ['train_eager_large', 'ok', '3.0', 'large', '900', '230400',
                                '0.55', '26.7']
    assert table[2].split()[:3] == ['resume', 'failed', '9.0'] and 'exit status 1' in table[2]
    assert table[3].split()[:3] == ['fsdp', 'failed', '5.0'] and 'loss_step1=5' in table[3]
