"""ImageNetFolder: class folders or annotation files, as OpenMMLab users keep ImageNet."""
import numpy as np
import pytest
from PIL import Image

from bigfix_mm.registry import DATASETS


def _image(path, size=(40, 30), value=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, dtype=np.uint8)).save(path)


def test_class_folders_give_sorted_labels_and_cropped_images(tmp_path):
    for cls, value in (('n02', 200), ('n01', 100)):
        for i in range(2):
            _image(tmp_path / 'train' / cls / f'{cls}_{i}.JPEG', value=value)
    ds = DATASETS.build(dict(type='ImageNetFolder', data_root=str(tmp_path), split='train',
                             pipeline=[dict(type='CenterCropResize', size=16)]))
    assert ds.metainfo['classes'] == ('n01', 'n02') and len(ds) == 4
    item = ds[2]
    assert item['gt_label'] == 1 and item['img'].shape == (16, 16, 3)
    assert item['img'].dtype == np.uint8 and abs(int(item['img'].mean()) - 200) <= 2  # JPEG


def test_annotation_file_under_meta(tmp_path):
    _image(tmp_path / 'val' / 'ILSVRC2012_val_00000001.png', value=10)
    _image(tmp_path / 'val' / 'ILSVRC2012_val_00000002.png', value=20)
    (tmp_path / 'meta').mkdir()
    (tmp_path / 'meta' / 'val.txt').write_text(
        'ILSVRC2012_val_00000001.png 65\nILSVRC2012_val_00000002.png 970\n')
    ds = DATASETS.build(dict(type='ImageNetFolder', data_root=str(tmp_path), split='val'))
    assert [ds[i]['gt_label'] for i in range(2)] == [65, 970]
    assert ds[1]['img'].shape == (30, 40, 3) and int(ds[1]['img'][0, 0, 0]) == 20


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match='split'):
        DATASETS.build(dict(type='ImageNetFolder', data_root=str(tmp_path), split='train'))
    (tmp_path / 'train').mkdir()
    with pytest.raises(ValueError, match='no class folders'):
        DATASETS.build(dict(type='ImageNetFolder', data_root=str(tmp_path), split='train'))
    (tmp_path / 'bad.txt').write_text('a.png\n')
    with pytest.raises(ValueError, match=r'bad\.txt:1'):
        DATASETS.build(dict(type='ImageNetFolder', data_root=str(tmp_path), split='train',
                            ann_file='bad.txt'))
    (tmp_path / 'ok.txt').write_text('missing.png 3\n')
    ds = DATASETS.build(dict(type='ImageNetFolder', data_root=str(tmp_path), split='train',
                             ann_file='ok.txt'))
    with pytest.raises(OSError, match='missing.png'):
        ds[0]
