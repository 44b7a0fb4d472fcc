# UCF-101 (official split 1) as pre-extracted per-frame tokens: 16 frames 2 apart, resized and
# centre-cropped to 128x128, one VQ token grid per frame. The model config names the tokenizer;
# extract the tokens with the same config:
#   python tools/extract_tokens.py configs/bigfix/bigfix_ucf101.py --split train --out data/ucf101_tokens/train
#   python tools/extract_tokens.py configs/bigfix/bigfix_ucf101.py --split test --out data/ucf101_tokens/test
_base_ = ['./token_loaders.py']
num_frames = 16
frame_size = 128
ucf_root = 'data/UCF-101'  # <Class>/v_<Class>_gXX_cYY.avi
ucf_split_dir = 'data/ucfTrainTestlist'  # classInd.txt, trainlist01.txt, testlist01.txt
extract_datasets = dict(
    train=dict(type='UCF101', data_root=ucf_root, split_dir=ucf_split_dir, split='train', fold=1,
               num_frames=num_frames, stride=2, clips_per_video=4,
               pipeline=[dict(type='ResizeCropFrames', size=frame_size)]),
    test=dict(type='UCF101', data_root=ucf_root, split_dir=ucf_split_dir, split='test', fold=1,
              num_frames=num_frames, stride=2, clip_start='center',
              pipeline=[dict(type='ResizeCropFrames', size=frame_size)]),
)
train_pipeline = [dict(type='PackTokenInputs', keys=('tokens', ))]
val_pipeline = [
    dict(type='RandomTokenInjection', seed=1234),  # settings: model.injection
    dict(type='PackTokenInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    dataset=dict(type='TokenDataset', data_root='data/ucf101_tokens/train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    dataset=dict(type='TokenDataset', data_root='data/ucf101_tokens/test', pipeline=val_pipeline))
test_dataloader = val_dataloader
