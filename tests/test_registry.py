"""Every class bigfix_mm registers builds from a config dict through its registry.

The cases are generated from the registries (not a hand list): a newly registered
bigfix_mm class that needs constructor arguments fails ``test_every_class_has_a_case``
until it gets an entry in KWARGS (or, with a reason, in SKIP).
"""
import inspect
import io
import json

import numpy as np
import pytest
import torch
from mmengine.registry import FUNCTIONS, MODEL_WRAPPERS, Registry
from PIL import Image

import bigfix_mm  # noqa: F401  (registers everything)
import bigfix_mm.registry as bigfix_registry
from bigfix_mm.evaluation.classifier import CifarClassifier, save_classifier

from tests.evaluation.random_inception import write_random_inception

# The registries bigfix_mm exposes, plus the MMEngine ones it registers into directly
# (model wrappers, FSDP wrap policies); deduplicated by identity.
REGISTRIES = {}
for _reg in [v for v in vars(bigfix_registry).values() if isinstance(v, Registry)] + [
        MODEL_WRAPPERS, FUNCTIONS]:
    REGISTRIES.setdefault(id(_reg), _reg)
REGISTRIES = list(REGISTRIES.values())


def _registered():
    """(registry, name, obj) for every bigfix_mm entry."""
    out = []
    for reg in REGISTRIES:
        for name, obj in sorted(reg.module_dict.items()):
            if getattr(obj, '__module__', '').startswith('bigfix_mm'):
                out.append((reg, name, obj))
    return out


REGISTERED = _registered()
CLASSES = [(r, n, o) for r, n, o in REGISTERED if inspect.isclass(o)]

TRANSFORMER = dict(type='BidirectionalTransformer', size=None, width=32, depth=1, heads=2,
                   codebook_size=8, grid=(2, 2), num_classes=2)
RGB = dict(type='RGBQuantTokenizer', levels=2, downsample=2)
TINY_VQ = dict(ch=32, ch_mult=(1, 2), num_res_blocks=1, z_channels=32, codebook_size=64,
               code_dim=4, l2_norm=True, norm_groups=8)
TINY_DIFFUSERS_VQ = dict(type='VQModel', in_channels=3, out_channels=3,
                         down_block_types=('DownEncoderBlock2D', 'DownEncoderBlock2D'),
                         up_block_types=('UpDecoderBlock2D', 'UpDecoderBlock2D'),
                         block_out_channels=(16, 32), layers_per_block=1, latent_channels=4,
                         num_vq_embeddings=32, vq_embed_dim=4, norm_num_groups=8, sample_size=16)


# ---- small on-disk datasets, written into tmp_path -------------------------------------------
def _png(path, size=8):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((size, size, 3), np.uint8)).save(path)


def _cifar(root):
    blobs = []
    for _ in range(2):
        buf = io.BytesIO()
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(buf, format='JPEG')
        blobs.append(np.frombuffer(buf.getvalue(), np.uint8))
    offsets = np.cumsum([0] + [len(b) for b in blobs])
    np.savez(root / 'test.npz', jpeg=np.concatenate(blobs), offsets=offsets,
             labels=np.array([0, 1]))
    return dict(data_root=str(root), split='test')


def _idx(path, arr):
    header = bytes([0, 0, 0x08, arr.ndim]) + b''.join(int(s).to_bytes(4, 'big') for s in arr.shape)
    path.write_bytes(header + arr.astype(np.uint8).tobytes())


def _fashion_mnist(root):
    _idx(root / 't10k-images-idx3-ubyte', np.zeros((2, 28, 28)))
    _idx(root / 't10k-labels-idx1-ubyte', np.array([0, 1]))
    return dict(data_root=str(root), split='test')


def _imagenet(root):
    _png(root / 'train' / 'n0' / 'a.png')
    _png(root / 'train' / 'n1' / 'b.png')
    return dict(data_root=str(root), split='train')


def _tokens(root):
    np.save(root / 'tokens.npy', np.zeros((2, 2, 2), np.uint16))
    np.save(root / 'labels.npy', np.array([0, 1]))
    (root / 'meta.json').write_text(json.dumps(dict(codebook_size=8, grid=[2, 2], num_classes=2)))
    return dict(data_root=str(root))


def _video_folder(root):
    (root / 'clips' / 'walk').mkdir(parents=True)
    (root / 'clips' / 'walk' / 'a.avi').write_bytes(b'')  # listed, not decoded, when building
    return dict(data_root=str(root / 'clips'), num_frames=2)


def _ucf101(root):
    (root / 'UCF-101' / 'Walk').mkdir(parents=True)
    (root / 'UCF-101' / 'Walk' / 'v_Walk_g01_c01.avi').write_bytes(b'')
    (root / 'ucfTrainTestlist').mkdir()
    (root / 'ucfTrainTestlist' / 'classInd.txt').write_text('1 Walk\n')
    (root / 'ucfTrainTestlist' / 'trainlist01.txt').write_text('Walk/v_Walk_g01_c01.avi 1\n')
    return dict(data_root=str(root / 'UCF-101'), split='train', num_frames=2)


def _nuscenes(root):
    for i in range(2):
        _png(root / 'scene-0001' / f'{i:03d}.jpg')
    return dict(data_root=str(root), num_frames=2)


# ---- metrics that load a network file at construction ---------------------------------------
def _classifier(root):
    save_classifier(str(root / 'cls.pth'), CifarClassifier(width=4), dict(test_acc=12.5))
    return dict(fake_nums=2, classifier_path=str(root / 'cls.pth'))


def _inception(key, **kw):
    def make(root):
        return dict(kw, **{key: write_random_inception(str(root / 'inception.pt'), arch='tiny')})
    return make


# name -> kwargs, or a callable(tmp_path) -> kwargs for classes that read files
KWARGS = {
    # MODELS
    'BIGFix': dict(transformer=TRANSFORMER, tokenizer=RGB),
    'BidirectionalTransformer': {k: v for k, v in TRANSFORMER.items() if k != 'type'},
    'RGBQuantTokenizer': dict(levels=4, downsample=2),
    'MaskGITSampler': dict(steps=4),
    'HaltonSampler': dict(steps=4),
    'TokenFixingSampler': dict(steps=4, fix='all'),
    'MaskedBitHead': dict(codebook_size=8, width=16, bit_width=16, depth=1, heads=2),
    'SoftmaxHead': dict(codebook_size=8, width=16),
    'LookupFreeQuantizer': dict(bits=4, usage_history=16),
    'PerFrameTokenizer': dict(tokenizer=RGB),
    'VQGANTokenizer': TINY_VQ,
    'VQGANTrainer': dict(autoencoder=dict(TINY_VQ, usage_history=16)),
    'DiffusersVQTokenizer': dict(vqmodel=TINY_DIFFUSERS_VQ),
    # TRANSFORMS
    'RandomTokenInjection': dict(codebook_size=8),
    'TokenizeImage': dict(tokenizer=RGB),
    'TokenizeVideo': dict(tokenizer=dict(type='PerFrameTokenizer', tokenizer=RGB)),
    'ContextFrames': dict(frame_range=(1, 2)),
    # HOOKS
    'FixingSamplerHook': dict(interval=10),
    # METRICS
    'EfficientNetFrechetDistance': dict(fake_nums=2),
    'ClassifierAccuracy': _classifier,
    'LocalFrechetInceptionDistance': _inception('inception_path', fake_nums=2),
    'LocalInceptionScore': _inception('inception_path', fake_nums=10, splits=2),
    'LocalPrecisionAndRecall': _inception('vgg16_script', fake_nums=4),
    # DATASETS
    'SyntheticMovingShapes': dict(num_samples=2, num_frames=2, image_size=16),
    'SyntheticShapes': dict(num_samples=2, image_size=16),
    'CIFAR10JPEG': _cifar,
    'FashionMNIST': _fashion_mnist,
    'ImageNetFolder': _imagenet,
    'TokenDataset': _tokens,
    'VideoFolderDataset': _video_folder,
    'UCF101': _ucf101,
    'NuScenesFrames': _nuscenes,
}

# name -> why it cannot be built in this test (each is covered elsewhere)
SKIP = {
    'GuardedDistributedDataParallel': 'wraps a model in DDP: needs an initialised process group '
                                      '(tests/engine/test_model_wrappers.py)',
    'GuardedFullyShardedDataParallel': 'FSDP needs a process group and a GPU',
}


def _needs_args(cls) -> bool:
    """True if the constructor has a required argument (other than *args / **kwargs)."""
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


def test_registries_hold_bigfix_classes():
    names = {n for _, n, _ in CLASSES}
    assert names, 'no bigfix_mm class found in the registries'
    assert {'BIGFix', 'BidirectionalTransformer', 'TokenizeImage'} <= names


def test_every_class_has_a_case():
    """A new class with required arguments must be added to KWARGS (or SKIP, with a reason)."""
    missing = sorted(n for _, n, c in CLASSES
                     if n not in KWARGS and n not in SKIP and _needs_args(c))
    assert not missing, f'registered bigfix_mm classes without a build case in KWARGS: {missing}'
    names = {n for _, n, _ in REGISTERED}
    stale = sorted((set(KWARGS) | set(SKIP)) - names)
    assert not stale, f'KWARGS / SKIP entries for names no longer registered: {stale}'


def test_registered_functions_resolve():
    for reg, name, obj in REGISTERED:
        if not inspect.isclass(obj):
            assert callable(obj) and reg.get(name) is obj


@pytest.mark.parametrize('registry,name,cls', CLASSES, ids=[n for _, n, _ in CLASSES])
def test_builds_from_config(registry, name, cls, tmp_path):
    if name in SKIP:
        pytest.skip(SKIP[name])
    kwargs = KWARGS.get(name, {})
    if callable(kwargs):
        kwargs = kwargs(tmp_path)
    torch.manual_seed(0)
    obj = registry.build(dict(type=name, **kwargs))
    assert type(obj) is cls
