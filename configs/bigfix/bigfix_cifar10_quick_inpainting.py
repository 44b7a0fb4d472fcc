# The quick config evaluated as an inpainting model, with MMagic's own conventions:
#     python tools/test.py configs/bigfix/bigfix_cifar10_quick_inpainting.py CHECKPOINT
# Test pipeline as MMagic's inpainting configs: the image as `gt` (BGR), LoadMask, GetMaskedImage,
# PackInputs; BIGFix answers predict with `pred_img` (the composite). Two mask sets, each with
# MMagic's MAE / PSNR / SSIM next to the Fréchet distance of the composites to the originals:
#   box/  a 16x16 box at the centre (MMagic's bbox mode, at most one pixel off the centre),
#   ff/   free-form brush strokes (MMagic's ff mode, DeepFill v2's masks scaled to 32x32).
# The images keep their CIFAR-10 class (`gt_label`), so holes are filled under the true class.
# No `collate_fn` (the Runner's default, pseudo_collate, as in MMagic's configs): MMEngine's
# BaseInferencer reads test_dataloader.collate_fn as a registry name and fails on the Runner's
# dict form, so this config also serves MMagic's Inferencers (inpainting and conditional).
# Editing settings: model.edit_cfg (sampler preset or config, seam, seed), e.g.
#     --cfg-options model.edit_cfg.sampler=fix_low model.edit_cfg.seam=1
_base_ = ['./bigfix_cifar10_quick.py']

model = dict(edit_cfg=dict(sampler=None, seam=0, seed=0))  # sampler None: model.sampler

box_mask = dict(type='LoadMask', mask_mode='bbox',
                mask_config=dict(img_shape=(32, 32), max_bbox_shape=16, max_bbox_delta=0,
                                 min_margin=7))
free_form_mask = dict(type='LoadMask', mask_mode='ff',
                      mask_config=dict(img_shape=(32, 32), num_vertices=(4, 8), mean_angle=1.2,
                                       angle_range=0.4, brush_width=(3, 6), max_loops=2))


def _loader(mask):
    return dict(
        batch_size=16,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),  # collate_fn: pseudo_collate
        dataset=dict(type='CIFAR10JPEG', data_root=None, split='test', indices=512,
                     pipeline=[dict(type='ImageAsGT'), mask, dict(type='GetMaskedImage'),
                               dict(type='PackInputs')]))


def _evaluator(prefix):
    return dict(type='Evaluator', metrics=[
        dict(type='MAE', mask_key='mask', scaling=100, prefix=prefix),
        dict(type='PSNR', prefix=prefix),
        dict(type='SSIM', prefix=prefix),
        dict(type='CompositeFrechetDistance', prefix=f'{prefix}/FD-composite'),
    ])


test_cfg = dict(_delete_=True, type='MultiTestLoop')
test_dataloader = [_loader(box_mask), _loader(free_form_mask)]
test_evaluator = [_evaluator('box'), _evaluator('ff')]
del _loader, _evaluator
