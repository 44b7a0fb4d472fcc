"""GPU-vs-CPU sampler agreement (here CPU against CPU: the code path, and the premise)."""
import torch

from bigfix_mm.apis.gpu_kit.agreement import GREEDY, PRESETS, _sample, sampler_agreement


def test_greedy_tokens_do_not_depend_on_the_seed():
    """The premise of the 'greedy' variant: no random draw changes a token, so devices
    with different random streams must agree wherever their arithmetic does."""
    torch.manual_seed(0)
    from bigfix_mm.apis.benchmark import build_transformer
    net = build_transformer('64x2x2', grid=(8, 8), codebook_size=512, num_classes=10).eval()
    with torch.no_grad():
        for param in net.parameters():
            param.normal_(0.0, 0.2)
        labels = torch.arange(4)
        for name in PRESETS:
            extra = {k: v for k, v in GREEDY.items()
                     if k != 'confidence_noise' or name.startswith('maskgit')}
            first = _sample(name, net, labels, 4, seed=0, **extra)
            assert torch.equal(first, _sample(name, net, labels, 4, seed=123, **extra)), name
            # while the presets as they are do depend on it
            assert not torch.equal(_sample(name, net, labels, 4, seed=0),
                                   _sample(name, net, labels, 4, seed=123)), name


def test_cpu_against_cpu_agrees_everywhere():
    rows = sampler_agreement('cpu', presets=('halton', 'fix_low'), steps=4, batch=2)
    assert rows[0]['variant'] == 'logits' and rows[0]['max_abs_diff'] == 0.0
    assert [(r['sampler'], r['variant']) for r in rows[1:]] == [
        ('halton', 'greedy'), ('halton', 'sampled'), ('fix_low', 'greedy'),
        ('fix_low', 'sampled')]
    assert all(r['identical'] and r['agreement'] == 1.0 for r in rows[1:])
