from setuptools import find_packages, setup

setup(
    name='bigfix_mm',
    version='0.1.0',
    description='BIGFix (bidirectional image generation with token fixing) for OpenMMLab',
    packages=find_packages(include=['bigfix_mm', 'bigfix_mm.*']),
    python_requires='>=3.10',
    license='Apache-2.0',
)
