"""tools/gpu_check.py: the wheel list check, and the CPU rehearsal of the whole kit.

The rehearsal (slow) builds a virtual environment holding only what the GPU image holds
(torch and torchvision, requirements/gpu_image.txt), fills a wheel folder with
tools/gpu_wheels.sh, and runs ``tools/gpu_check.py --install-from DIR --device cpu --tiny``
there: every check must pass from the carried wheels alone, installed without an index.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, load_tool

gpu_check = load_tool('gpu_check')
IMAGE_REQUIREMENTS = REPO / 'requirements' / 'gpu_image.txt'


def _touch_wheels(folder: Path, names) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b'')
    return folder


def test_required_wheels_reads_names_and_pins():
    wanted = dict(gpu_check.required_wheels())
    assert wanted['mmcv_lite'] == '2.1.0' and wanted['bigfix_mm'] is None
    assert {'mmengine', 'mmagic', 'addict', 'yapf', 'matplotlib'} <= set(wanted)
    assert 'torch' not in wanted and 'numpy' not in wanted  # the image's own


def test_missing_wheels_names_absent_and_wrong_versions(tmp_path):
    names = [n for n, _ in gpu_check.required_wheels()]
    files = [f'{n}-{v or "1.0"}-py3-none-any.whl' for n, v in gpu_check.required_wheels()]
    full = _touch_wheels(tmp_path / 'full', files)
    assert gpu_check.missing_wheels(str(full)) == []
    short = _touch_wheels(tmp_path / 'short', [f for f in files if not f.startswith('yapf-')])
    assert gpu_check.missing_wheels(str(short)) == ['yapf']
    old = _touch_wheels(tmp_path / 'old', [f.replace('mmcv_lite-2.1.0', 'mmcv_lite-2.0.1')
                                           for f in files])
    assert gpu_check.missing_wheels(str(old)) == ['mmcv_lite==2.1.0']
    assert len(names) == len(set(names))


def test_install_from_a_folder_missing_a_wheel_exits_2_naming_it(tmp_path, capsys):
    files = [f'{n}-{v or "1.0"}-py3-none-any.whl' for n, v in gpu_check.required_wheels()]
    folder = _touch_wheels(tmp_path / 'w', [f for f in files if not f.startswith('addict-')])
    with pytest.raises(SystemExit) as exit_:
        gpu_check.main(['--install-from', str(folder), '--site', str(tmp_path / 'site')])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert 'error (MissingWheel)' in err and 'no wheel for addict' in err
    assert not (tmp_path / 'site').exists()  # nothing installed


def test_unknown_check_is_an_input_error(tmp_path):
    from tests.conftest import tool_exit_status
    assert tool_exit_status('gpu_check', ['--checks', 'nonsense', '--work-dir',
                                          str(tmp_path)]) == 2


# ------------------------------------------------------------------ the CPU rehearsal
def _image_pins() -> list:
    """torch / torchvision pins of requirements/build.txt, then gpu_image.txt's lines."""
    build = (REPO / 'requirements' / 'build.txt').read_text().splitlines()
    torch_pins = [line for line in build if line.startswith(('torch==', 'torchvision=='))]
    image = [line.strip() for line in IMAGE_REQUIREMENTS.read_text().splitlines()
             if line.strip() and not line.startswith('#')]
    return torch_pins + image


def image_venv() -> Path:
    """A venv with exactly the image's packages (built once, kept in the user's cache)."""
    pins = _image_pins()
    key = hashlib.sha256('\n'.join(pins).encode()).hexdigest()[:12]
    cache = Path(os.environ.get('BIGFIX_REHEARSAL_CACHE',
                                Path.home() / '.cache' / 'bigfix-mm' / 'gpu-rehearsal'))
    venv = cache / f'venv-{key}'
    if not (venv / 'ready').exists():
        shutil.rmtree(venv, ignore_errors=True)
        base = getattr(sys, '_base_executable', sys.executable)
        subprocess.run([base, '-m', 'venv', str(venv)], check=True)
        subprocess.run([str(venv / 'bin' / 'python'), '-m', 'pip', 'install', '-q',
                        '--disable-pip-version-check', *pins], check=True, timeout=1800,
                       env=_clean_env())
        (venv / 'ready').write_text('\n'.join(pins))
    return venv / 'bin' / 'python'


@pytest.fixture(scope='module')
def rehearsal(tmp_path_factory):
    """(python of the image venv, a wheel folder for its Python from tools/gpu_wheels.sh)."""
    python = image_venv()
    version = subprocess.run([str(python), '-c', 'import sys; print("%d.%d" % sys.version_info'
                              '[:2])'], capture_output=True, text=True, check=True).stdout.strip()
    wheels = tmp_path_factory.mktemp('gpu') / 'wheels'
    subprocess.run(['bash', str(REPO / 'tools' / 'gpu_wheels.sh'), str(wheels)], check=True,
                   env=dict(_clean_env(), GPU_PYTHON=version), timeout=900)
    return python, wheels


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'LOCAL_RANK')}
    return dict(env, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='', NO_ALBUMENTATIONS_UPDATE='1')


@pytest.mark.slow  # builds a venv once (about 2 min), the wheels (1 min), runs 11 checks (5 min)
def test_rehearsal_every_check_passes_from_the_carried_wheels(rehearsal, tmp_path):
    python, wheels = rehearsal
    size = sum(f.stat().st_size for f in wheels.iterdir())
    assert size <= 64 * 2**20
    out = tmp_path / 'lines.jsonl'
    proc = subprocess.run([str(python), str(REPO / 'tools' / 'gpu_check.py'), '--install-from',
                           str(wheels), '--site', str(tmp_path / 'site'), '--device', 'cpu',
                           '--tiny', '--work-dir', str(tmp_path / 'work'), '--out', str(out),
                           '--budget', '1500'],  # a loaded 2-core machine: 6 min at load 10
                          cwd=tmp_path, env=_clean_env(), capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    lines = {line['check']: line for line in map(json.loads, out.read_text().splitlines())}
    from bigfix_mm.apis.gpu_kit.cases import CASES
    assert list(lines) == [case.name for case in CASES]
    assert {n: line['status'] for n, line in lines.items() if line['status'] != 'ok'} == {
        'sample_cuda_graphs': 'skipped'}  # needs CUDA
    device = lines['device']['rows'][0]
    # the carried stack, as on the GPU machine: mmcv without ops, NumPy 2, bigfix_mm's wheel
    assert device['mmcv_ops'] is False and device['numpy'].startswith('2.')
    assert device['bigfix_mm_from'] == str(tmp_path / 'site' / 'bigfix_mm')
    assert device['stack_mends']['numpy_aliases'] == ['bool8']
    assert {'MODELS', 'METRICS', 'TRANSFORMS'} <= set(device['stack_mends']['registries_skipped'])
    resume = lines['resume']['rows'][0]
    assert resume['losses_equal'] and resume['resumed_from'] == 4
    assert resume['rng_sensitive']  # a resume that lost the random streams would show
    fsdp = lines['fsdp']['rows'][0]
    assert fsdp['resumed_with_optimizer_state'] and fsdp['loss_step2'] is not None
    agreement = [r for r in lines['agreement']['rows'] if 'identical' in r]
    assert agreement and all(r['identical'] for r in agreement)  # CPU against CPU
    print({n: line['wall_s'] for n, line in lines.items()}, resume)  # the docs' figures


@pytest.mark.slow  # the rehearsal's venv and wheels
def test_rehearsal_fails_when_a_needed_wheel_is_missing(rehearsal, tmp_path):
    python, wheels = rehearsal
    short = tmp_path / 'short'
    shutil.copytree(wheels, short)
    (yapf, ) = short.glob('yapf-*.whl')
    yapf.unlink()
    proc = subprocess.run([str(python), str(REPO / 'tools' / 'gpu_check.py'), '--install-from',
                           str(short), '--site', str(tmp_path / 'site'), '--device', 'cpu',
                           '--tiny'], cwd=tmp_path, env=_clean_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2 and 'no wheel for yapf' in proc.stderr, proc.stderr[-3000:]
    # and the list is not just a list: without that wheel the stack does not import
    subprocess.run([str(python), '-m', 'pip', 'install', '-q', '--no-index', '--no-deps',
                    '--target', str(tmp_path / 'bare'), *map(str, short.glob('*.whl'))],
                   check=True)
    bare = subprocess.run([str(python), '-c', 'import bigfix_mm'], cwd=tmp_path,
                          env=dict(_clean_env(), PYTHONPATH=str(tmp_path / 'bare')),
                          capture_output=True, text=True, timeout=300)
    assert bare.returncode != 0 and "No module named 'yapf'" in bare.stderr
