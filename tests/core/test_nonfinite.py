"""The non-finite loss guard: single process, MMEngine-style wrappers, and 2 real ranks."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.optim import OptimWrapper

from bigfix_mm.registry import MODELS

TINY = dict(type='BidirectionalTransformer', size=None, width=32, depth=1, heads=2,
            codebook_size=16, grid=(4, 4), num_classes=3)


def tiny_model(policy: str = 'raise'):
    return MODELS.build(dict(type='BIGFix', transformer=TINY, label_drop_prob=0.0,
                             nonfinite_loss=policy))


def batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=dict(tokens=torch.randint(0, 16, (4, 4, 4), generator=g),
                            labels=torch.randint(0, 3, (4, ), generator=g)))


def poison(model) -> None:
    with torch.no_grad():
        model.transformer.tok_emb.weight.fill_(float('nan'))


def test_wrapper_style_step_cannot_train_on_nan():
    """MMEngine's own wrappers call parse_losses + update_params themselves:
    parse_losses then stops the run instead of letting NaN reach the weights."""
    model = tiny_model('skip')
    poison(model)
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    with pytest.raises(FloatingPointError, match='GuardedDistributedDataParallel'):
        model.parse_losses(losses)


def test_skip_keeps_accumulated_gradients():
    model = tiny_model('skip')
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), accumulative_counts=2)
    optim.initialize_count_status(model, 0, 4)
    qkv = model.transformer.blocks[0].attn.qkv.weight
    model.train_step(batch(0), optim)  # first micro-batch: gradients accumulate, no step
    grad, weight = qkv.grad.clone(), qkv.detach().clone()
    poison(model)
    log = model.train_step(batch(1), optim)
    assert log['nonfinite_skipped'] == 1
    assert torch.equal(qkv.grad, grad) and torch.equal(qkv, weight)  # window left intact


def _two_rank_worker(rank: int, port: int, results) -> None:
    import bigfix_mm  # noqa: F401
    from mmengine.registry import DefaultScope
    from bigfix_mm.engine.model_wrappers import GuardedDistributedDataParallel
    DefaultScope.get_instance(f'nonfinite_{rank}', scope_name='mmagic')
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.distributed.init_process_group('gloo', rank=rank, world_size=2)
    try:
        torch.manual_seed(0)
        # device_ids as MMEngine's Runner passes them; the wrapper drops them on CPU
        ddp = GuardedDistributedDataParallel(module=tiny_model('skip'), device_ids=[rank])
        optim = OptimWrapper(torch.optim.SGD(ddp.parameters(), lr=0.1))
        ddp.train_step(batch(rank), optim)  # a normal synchronised step
        if rank == 1:  # from now on only rank 1 sees a NaN loss
            with torch.no_grad():
                ddp.module.transformer.tok_emb.weight[:] = float('nan')
        qkv = ddp.module.transformer.blocks[0].attn.qkv.weight
        before = qkv.detach().clone()
        outcomes = []
        for policy in ('skip', 'raise'):
            ddp.module.nonfinite_loss = policy
            try:
                log = ddp.train_step(batch(rank), optim)
                outcomes.append('skipped' if float(log.get('nonfinite_skipped', 0)) else 'stepped')
            except FloatingPointError:
                outcomes.append('raised')
        results[rank] = (*outcomes, torch.equal(before, qkv))
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow  # a real tool process, over 10 s
def test_two_ranks_decide_together():
    """A NaN loss on one rank only: both ranks skip, or both raise; no rank hangs in
    the gradient all-reduce and no weight changes."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    with mp.Manager() as manager:
        shared = manager.dict()
        mp.start_processes(_two_rank_worker, args=(port, shared), nprocs=2,
                           start_method='spawn')  # fork can hang in OpenMP
        results = dict(shared)
    assert results[0] == results[1] == ('skipped', 'raised', True)


def inf_gradients(model):
    """Finite loss, infinite gradients (what bf16 without a loss scaler can give)."""
    qkv = model.transformer.blocks[0].attn.qkv.weight
    return qkv.register_hook(lambda grad: grad * float('inf'))


@pytest.mark.parametrize('policy', ['raise', 'skip'])
def test_finite_loss_with_inf_gradients_changes_no_weight(policy):
    """The clip turns inf gradients into NaN ones; before the gradient-norm check
    the optimizer then wrote NaN into every weight."""
    model = tiny_model(policy)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), clip_grad=dict(max_norm=1.0))
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    handle = inf_gradients(model)
    if policy == 'raise':
        with pytest.raises(FloatingPointError, match='non-finite gradient norm.*finite loss'):
            model.train_step(batch(0), optim)
    else:
        log = model.train_step(batch(0), optim)
        assert log['nonfinite_skipped'] == 1 and torch.isfinite(log['loss'])
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # no NaN, no change
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())  # window dropped
    handle.remove()
    log = model.train_step(batch(1), optim)  # the next good batch trains normally
    assert 'nonfinite_skipped' not in log
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_consecutive_skips_are_capped_with_their_history():
    model = MODELS.build(dict(type='BIGFix', transformer=TINY, label_drop_prob=0.0,
                              nonfinite_loss='skip', max_nonfinite_skips=2))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    handle = inf_gradients(model)
    for _ in range(2):
        assert model.train_step(batch(0), optim)['nonfinite_skipped'] == 1
    handle.remove()
    model.train_step(batch(0), optim)  # a good step resets the count
    handle = inf_gradients(model)
    model.train_step(batch(0), optim)
    model.train_step(batch(0), optim)
    poison(model)  # a non-finite loss counts as well
    with pytest.raises(FloatingPointError, match=r'3 consecutive.*max_nonfinite_skips=2') as err:
        model.train_step(batch(0), optim)
    assert str(err.value).count('gradient norm=') == 2 and 'loss=nan' in str(err.value)
    handle.remove()


def test_fsdp_wrapper_clips_by_the_full_model_norm():
    """Under FSDP each rank's parameters are shards: MMEngine's OptimWrapper would clip
    them by the shard's own norm. The guarded wrapper asks FSDP for the model's norm.
    (torch's FSDP needs a GPU; here its sharding is stood in for by a module whose
    clip_grad_norm_ records the call and answers with the unsharded norm.)"""
    from bigfix_mm.engine.model_wrappers import GuardedFullyShardedDataParallel

    class ShardedRoot(torch.nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module, self.calls = module, []

        def forward(self, *args, **kwargs):
            return self.module(*args, **kwargs)

        def clip_grad_norm_(self, max_norm, norm_type=2.0):
            self.calls.append((max_norm, norm_type))
            return torch.nn.utils.clip_grad_norm_(self.module.parameters(), max_norm, norm_type)

    root = ShardedRoot(tiny_model())
    optim = OptimWrapper(torch.optim.SGD(root.parameters(), lr=0.1), clip_grad=dict(max_norm=0.5))

    def shard_local_clip():
        raise AssertionError("OptimWrapper._clip_grad: torch's clip over this rank's shards")

    optim._clip_grad = shard_local_clip
    GuardedFullyShardedDataParallel.train_step(root, batch(0), optim)
    assert root.calls == [(0.5, 2.0)]
    assert optim.clip_grad_kwargs == dict(max_norm=0.5)  # restored after the step


def test_train_tool_prints_a_non_finite_loss_as_one_block(tmp_path, capsys):
    """A learning rate that blows the weights up: the second loss is NaN; the run stops
    with one block and exit status 2, and no checkpoint of the diverged weights."""
    from tests.conftest import SMALL_CONFIG, input_error_block, tool_exit_status
    work = tmp_path / 'work'
    argv = [str(SMALL_CONFIG), '--work-dir', str(work), '--cfg-options',
            'model.transformer.size=None', 'model.transformer.width=32',
            'model.transformer.depth=1', 'model.transformer.heads=2', 'train_cfg.max_iters=3',
            'optim_wrapper.optimizer.lr=1e30', 'optim_wrapper.clip_grad=None',
            'param_scheduler=[]', 'train_dataloader.batch_size=2',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'custom_hooks=[]', 'log_level=WARNING']
    assert tool_exit_status('train', argv) == 2
    block = input_error_block(capsys.readouterr().err)
    assert 'error (NonFiniteError):' in block and 'non-finite' in block
    assert 'Lower the learning rate' in block
    assert not list(work.rglob('*.pth'))
