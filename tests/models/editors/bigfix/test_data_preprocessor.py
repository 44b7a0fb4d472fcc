import pytest
import torch
from mmengine.dataset import default_collate, pseudo_collate

from bigfix_mm.registry import MODELS, TRANSFORMS


def packed(n=3):
    pack = TRANSFORMS.build(dict(type='PackTokenInputs', keys=(), gt_img=True))
    rgb = torch.arange(n * 4 * 4 * 3, dtype=torch.uint8).view(n, 4, 4, 3)
    return rgb, [pack(dict(img=rgb[i].numpy(), gt_label=i, sample_idx=i)) for i in range(n)]


@pytest.mark.parametrize('collate', [pseudo_collate, default_collate])
def test_real_images_become_one_bgr_datasample(collate):
    rgb, items = packed()
    out = MODELS.build(dict(type='TokenDataPreprocessor'))(collate(items), False)
    gt = out['data_samples'].gt_img
    assert gt.shape == (3, 3, 4, 4) and gt.dtype == torch.float32
    assert torch.equal(gt, rgb.permute(0, 3, 1, 2).flip(1).float())  # RGB -> BGR
    assert out['inputs']['labels'].tolist() == [0, 1, 2]


def test_gt_img_needs_an_image():
    pack = TRANSFORMS.build(dict(type='PackTokenInputs', gt_img=True))
    with pytest.raises(KeyError, match='gt_img=True.*needs `img`'):
        pack(dict(tokens=torch.zeros(1, 2, 2, dtype=torch.long), gt_label=0))


def test_generation_requests_pass_through():
    request = dict(inputs=dict(num_batches=4, sample_model='orig', sample_kwargs=dict(seed=1)))
    out = MODELS.build(dict(type='TokenDataPreprocessor'))(request, False)
    assert out['inputs'] == request['inputs'] and out['data_samples'] is None
