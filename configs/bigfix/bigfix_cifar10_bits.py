# BIGFix with the masked-bit head on binary (LFQ) CIFAR-10 tokens, K = 2^lfq_bits
# (docs/bit_head.md). The transformer's input embedding is built from the bits and its output
# is a small masked model over the bits, so nothing scales with K. Bits: the environment
# variable BIGFIX_LFQ_BITS (default 10; the tokenizer config reads the same one):
#   python tools/train.py configs/vqgan/vqgan_cifar10_lfq.py --work-dir work_dirs/vqgan_cifar10_lfq10
#   python tools/extract_tokens.py configs/vqgan/vqgan_cifar10_lfq.py --split train --flip \
#       --out data/cifar10_lfq10_tokens/train
#   python tools/extract_tokens.py configs/vqgan/vqgan_cifar10_lfq.py --split test \
#       --out data/cifar10_lfq10_tokens/test
#   python tools/train.py configs/bigfix/bigfix_cifar10_bits.py
# Injection: model.injection as everywhere (shuffle as the paper); mode='bit_flip' flips a
# random subset of a visible token's bits.
_base_ = ['./bigfix_cifar10.py']
lfq_bits = int('{{$BIGFIX_LFQ_BITS:10}}')
token_root = f'data/cifar10_lfq{lfq_bits}_tokens'

model = dict(
    transformer=dict(head=dict(type='MaskedBitHead', bit_width=64, depth=2, heads=4, steps=None)),
    # its 2^lfq_bits implicit codes are the codebook size
    tokenizer=dict(_delete_=True, type='VQGANTokenizer', arch='cifar-f4-lfq',
                   checkpoint=f'work_dirs/vqgan_cifar10_lfq{lfq_bits}/iter_2000.pth',
                   quantizer=dict(type='LookupFreeQuantizer', bits=lfq_bits)),
)
train_dataloader = dict(dataset=dict(data_root=f'{token_root}/train'))
val_dataloader = dict(dataset=dict(data_root=f'{token_root}/test'))
test_dataloader = dict(dataset=dict(data_root=f'{token_root}/test'))
