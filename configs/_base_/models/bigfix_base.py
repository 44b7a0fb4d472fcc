# The base of every BIGFix model: the tiny transformer (384/6/6), injection, label
# dropout, the default sampler. A dataset-specific config adds the token facts, each once:
#   model.tokenizer (its codebook is the codebook size) or, for pre-extracted tokens
#   without a tokenizer, model.transformer.codebook_size; model.transformer.grid and
#   model.transformer.num_classes. The datasets and transforms read them from the model.
# The run's corruption is stated here once: change it with
#   --cfg-options model.injection.injection_prob=0.5 model.injection.mode=uniform
# wherever it runs (RandomTokenInjection in the data pipeline, or batched in the model).
model = dict(
    type='BIGFix',
    transformer=dict(type='BidirectionalTransformer', size='tiny', num_registers=1),
    injection=dict(injection_prob=0.2, mode='shuffle'),
    label_drop_prob=0.1,
    sampler=dict(type='TokenFixingSampler', steps=32, reveal='halton', fix='low_confidence',
                 fix_ratio=0.1, cfg_scale=1.5),
    data_preprocessor=dict(type='TokenDataPreprocessor'),
    # torch.compile the transformer: True or dict(mode='max-autotune-no-cudagraphs');
    # worth it on GPUs (docs/performance.md), a minute of compiling on a small CPU
    compile=False,
)
