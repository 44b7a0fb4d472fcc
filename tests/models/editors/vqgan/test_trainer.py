"""VQGANTrainer: losses, optimisation with one or two optimizers, evaluation outputs."""
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

from bigfix_mm.models.editors.vqgan.trainer import psnr_uint8
from bigfix_mm.registry import METRICS, MODELS

PATCH_DISC = dict(type='PatchDiscriminator', in_channels=3, base_channels=8, num_conv=2,
                  norm_cfg=dict(type='BN'))


def _batch(n=4, size=16, seed=0):
    """Smooth (B, 3, size, size) uint8 images: bilinear upsampling of random 4x4 colours."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=gen)
    img = torch.nn.functional.interpolate(coarse, size=size, mode='bilinear', align_corners=False)
    img = (img * 255).round().to(torch.uint8)
    return dict(inputs=dict(img=img, labels=torch.zeros(n, dtype=torch.long)))


def _trainer(arch, **kw):
    torch.manual_seed(0)
    return MODELS.build(dict(type='VQGANTrainer', autoencoder=dict(arch, usage_history=256), **kw))


def test_psnr_of_8bit_images():
    x = -torch.ones(2, 3, 4, 4)  # black: 8-bit value 0
    assert torch.isfinite(psnr_uint8(x, x)).all()  # identical images: clamped, finite
    y = x.clone()
    y[1] += 2 / 255.0  # one 8-bit level in [-1, 1] units: MSE 1
    p = psnr_uint8(y, x)
    assert p[0] > 100 and abs(float(p[1]) - 20 * torch.log10(torch.tensor(255.0))) < 1e-3


def test_train_step_reduces_the_reconstruction_loss(tiny_vq_arch):
    model = _trainer(tiny_vq_arch)
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=3e-3))
    batch = _batch()
    first = model.train_step(batch, wrapper)
    assert {'loss', 'loss_rec', 'loss_codebook', 'loss_commit', 'psnr',
            'codebook_usage'} <= set(first)
    assert 0.0 < float(first['codebook_usage']) <= 1.0
    for _ in range(15):
        last = model.train_step(batch, wrapper)
    assert float(last['loss_rec'].detach()) < 0.8 * float(first['loss_rec'].detach())
    assert float(last['psnr']) > float(first['psnr'])


def test_adversarial_training_through_an_mmagic_discriminator(tiny_vq_arch):
    model = _trainer(tiny_vq_arch, discriminator=PATCH_DISC, adv_weight=0.5, adv_start_iter=2)
    assert type(model.discriminator).__module__.startswith('mmagic')
    wrappers = OptimWrapperDict(
        autoencoder=OptimWrapper(torch.optim.Adam(model.autoencoder.parameters(), lr=1e-3)),
        discriminator=OptimWrapper(torch.optim.Adam(model.discriminator.parameters(), lr=1e-3)))
    hub = MessageHub.get_current_instance()
    disc_before = [p.detach().clone() for p in model.discriminator.parameters()]
    hub.update_info('iter', 0)
    early = model.train_step(_batch(), wrappers)
    assert 'loss_gen_adv' not in early and 'loss_disc' not in early  # before adv_start_iter
    assert all(torch.equal(a, b) for a, b in zip(disc_before, model.discriminator.parameters()))
    hub.update_info('iter', 2)
    log = model.train_step(_batch(seed=1), wrappers)
    hub.update_info('iter', 0)
    assert torch.isfinite(log['loss_gen_adv']) and float(log['loss_disc']) > 0
    assert any(not torch.equal(a, b) for a, b in zip(disc_before, model.discriminator.parameters()))
    with pytest.raises(TypeError, match="'autoencoder' and 'discriminator'"):
        model.train_step(_batch(), OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))


def test_perceptual_loss_needs_a_local_weights_file(tiny_vq_arch, tmp_path):
    missing = tmp_path / 'vgg16.pth'
    with pytest.raises(FileNotFoundError, match=r'model\.perceptual_weights=.*vgg16\.pth'):
        _trainer(tiny_vq_arch, perceptual_weights=str(missing))


@pytest.mark.slow
def test_perceptual_loss_from_torchvision_vgg16_weights(tiny_vq_arch, tmp_path):
    """Builds VGG16 (138M values; ~5 s): a user-supplied file is the only source of weights."""
    import torchvision
    vgg = torchvision.models.vgg16(weights=None)
    torch.save({k: v for k, v in vgg.state_dict().items() if k.startswith('features.')},
               tmp_path / 'vgg16.pth')
    model = _trainer(tiny_vq_arch, perceptual_weights=str(tmp_path / 'vgg16.pth'),
                     perceptual_weight=0.5)
    assert torch.equal(model.perceptual.net.net.slice1[0].weight, vgg.features[0].weight)
    log = model.train_step(_batch(), OptimWrapper(torch.optim.Adam(
        model.autoencoder.parameters(), lr=1e-3)))
    assert float(log['loss_perceptual']) > 0
    (tmp_path / 'other.pth').write_bytes(b'')
    torch.save({'conv.weight': torch.zeros(1)}, tmp_path / 'other.pth')
    with pytest.raises(ValueError, match='not a VGG16 / LPIPS weights file'):
        _trainer(tiny_vq_arch, perceptual_weights=str(tmp_path / 'other.pth'))


def test_val_step_feeds_the_reconstruction_metric(tiny_vq_arch):
    model = _trainer(tiny_vq_arch).eval()
    batch = _batch(n=3)
    outputs = model.val_step(batch)
    assert len(outputs) == 3 and outputs[0]['ids'].shape == (8, 8)
    metric = METRICS.build(dict(type='VQReconstructionMetric'))
    metric.process(batch, outputs)
    result = metric.evaluate(3)
    x = batch['inputs']['img'].float() / 127.5 - 1
    with torch.no_grad():
        expected = psnr_uint8(model.autoencoder(x)[0], x).mean()
    assert abs(result['recon/psnr'] - float(expected)) < 1e-4
    used = torch.cat([o['ids'].flatten() for o in outputs]).unique().numel()
    assert result['recon/codebook_usage'] == pytest.approx(used / 64)
    assert 1.0 <= result['recon/perplexity'] <= used + 1e-6


def test_bad_options_are_named(tiny_vq_arch):
    with pytest.raises(ValueError, match='recon_loss'):
        _trainer(tiny_vq_arch, recon_loss='l3')
    model = _trainer(tiny_vq_arch)
    with pytest.raises(KeyError, match=r"inputs\[\"img\"\]"):
        model.train_step(dict(inputs=dict(tokens=torch.zeros(1, 4, 4))),
                         OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
