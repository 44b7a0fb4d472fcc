# Pre-extracted ImageNet-256 tokens (LlamaGen VQ f16, K=16384, 16x16), written by
# tools/extract_tokens.py. Injection runs in the loader (per sample, CPU).
_base_ = ['./token_loaders.py']
train_dataloader = dict(
    batch_size=32,  # per GPU: 8 GPUs x 32 = global batch 256
    num_workers=8,
    dataset=dict(type='TokenDataset', data_root='data/imagenet256_llamagen_f16/train'))
val_dataloader = dict(
    num_workers=4,
    dataset=dict(type='TokenDataset', data_root='data/imagenet256_llamagen_f16/val'))
test_dataloader = val_dataloader
