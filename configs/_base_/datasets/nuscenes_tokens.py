# NuScenes front camera as pre-extracted per-frame tokens for frame prediction: sequences
# exported one folder per scene (data/nuscenes_front/<scene-XXXX>/CAM_FRONT/*.jpg, sweeps at
# ~12 Hz), clips of 8 frames 2 apart (~6 Hz), resized and centre-cropped to 128x224 -> with a
# f16 VQ (8, 8, 14) tokens. Split files list scene names (one a line). The raw nuScenes tree
# also works: NuScenesFrames(layout='raw', data_root='data/nuscenes', source='sweeps').
#   python tools/extract_tokens.py configs/bigfix/bigfix_nuscenes.py --split train --out data/nuscenes_tokens/train
#   python tools/extract_tokens.py configs/bigfix/bigfix_nuscenes.py --split val --out data/nuscenes_tokens/val
# Every clip gives its first k frames, k uniform in context_frames: drawn by the model in
# training (model.context_frames) and by ContextFrames (seeded) in validation.
_base_ = ['./token_loaders.py']
num_frames = 8
context_frames = (0, 4)
frame_size = (128, 224)
nuscenes_root = 'data/nuscenes_front'
extract_datasets = dict(
    train=dict(type='NuScenesFrames', data_root=nuscenes_root, layout='scenes',
               camera='CAM_FRONT', num_frames=num_frames, stride=2, clip_step=4,
               split_file='data/nuscenes_front/train_scenes.txt',
               pipeline=[dict(type='ResizeCropFrames', size=frame_size)]),
    val=dict(type='NuScenesFrames', data_root=nuscenes_root, layout='scenes', camera='CAM_FRONT',
             num_frames=num_frames, stride=2, split_file='data/nuscenes_front/val_scenes.txt',
             pipeline=[dict(type='ResizeCropFrames', size=frame_size)]),
)
train_pipeline = [dict(type='PackTokenInputs', keys=('tokens', ))]
val_pipeline = [
    dict(type='ContextFrames', frame_range=context_frames, seed=4321),
    dict(type='RandomTokenInjection', seed=1234),  # settings: model.injection
    dict(type='PackTokenInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    dataset=dict(type='TokenDataset', data_root='data/nuscenes_tokens/train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    dataset=dict(type='TokenDataset', data_root='data/nuscenes_tokens/val', pipeline=val_pipeline))
test_dataloader = val_dataloader
