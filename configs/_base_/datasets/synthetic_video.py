# Moving shapes rendered on the fly (6 classes: shape x motion of the primary object),
# tokenized per frame by 4-level RGB quantisation after 4x4 pooling (64 codes):
# 8 frames of 32x32 px -> (8, 8, 8) token volumes. Injection and context frames are
# drawn on the device by BIGFix (model.context_frames), not in the train pipeline.
_base_ = ['./token_loaders.py']
num_frames = 8
image_size = 32
context_frames = (0, 2)  # given frames per clip: model.context_frames, and ContextFrames in val

train_pipeline = [
    dict(type='TokenizeVideo', keep_frames=False),  # model.tokenizer
    dict(type='PackTokenInputs', keys=('tokens', )),
]
val_pipeline = [
    dict(type='TokenizeVideo', keep_frames=False),  # model.tokenizer
    dict(type='ContextFrames', frame_range=context_frames, seed=4321),
    dict(type='RandomTokenInjection', seed=1234),  # settings: model.injection
    dict(type='PackTokenInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    dataset=dict(type='SyntheticMovingShapes', num_samples=20000, num_frames=num_frames,
                 image_size=image_size, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    dataset=dict(type='SyntheticMovingShapes', num_samples=256, num_frames=num_frames,
                 image_size=image_size, split='val', pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    dataset=dict(type='SyntheticMovingShapes', num_samples=512, num_frames=num_frames,
                 image_size=image_size, split='test', pipeline=val_pipeline))
