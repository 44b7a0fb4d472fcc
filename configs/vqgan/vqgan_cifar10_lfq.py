# A lookup-free (binary) tokenizer for CIFAR-10: the network of configs/vqgan/vqgan_cifar10.py with
# LookupFreeQuantizer: each of the `lfq_bits` latent channels' sign is one bit of the token id,
# K = 2^lfq_bits implicit codes (no codebook table). Losses: L1 reconstruction + commitment +
# entropy (per-sample entropy minus codebook entropy). One key sets the bits, the environment
# variable BIGFIX_LFQ_BITS (read when the config is parsed; default 10):
#   python tools/train.py configs/vqgan/vqgan_cifar10_lfq.py --work-dir work_dirs/vqgan_cifar10_lfq10
#   BIGFIX_LFQ_BITS=16 python tools/train.py configs/vqgan/vqgan_cifar10_lfq.py \
#       --work-dir work_dirs/vqgan_cifar10_lfq16
#   BIGFIX_LFQ_BITS=16 python tools/extract_tokens.py configs/vqgan/vqgan_cifar10_lfq.py --split train \
#       --flip --out data/cifar10_lfq16_tokens/train
_base_ = ['./vqgan_cifar10.py']

lfq_bits = int('{{$BIGFIX_LFQ_BITS:10}}')
vq_arch = 'cifar-f4-lfq'
max_iters = 2000
quantizer = dict(type='LookupFreeQuantizer', bits=lfq_bits, beta=0.25, entropy_weight=0.1,
                 diversity_weight=1.0, temperature=0.1)
model = dict(autoencoder=dict(_delete_=True, arch=vq_arch, quantizer=quantizer))
tokenizer_checkpoint = f'work_dirs/vqgan_cifar10_lfq{lfq_bits}/iter_{max_iters}.pth'
tokenizer = dict(_delete_=True, type='VQGANTokenizer', arch=vq_arch, quantizer=quantizer,
                 checkpoint=tokenizer_checkpoint)
