"""refine_plugin: the ByteDance COCO 2019 keypoint system as an MMPose 1.x plugin."""
import os.path as osp

from setuptools import find_packages, setup


def read_version():
    namespace = {}
    with open(osp.join(osp.dirname(__file__), 'refine_plugin', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='refine_plugin',
    version=read_version(),
    description='Refine-50 multi-stage pose networks, COCO+AIC training, ensembles and '
    'PoseFix refinement for MMPose 1.x',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['refine_plugin', 'refine_plugin.*']),
    include_package_data=True,
    # The configs ship inside the package (refine_plugin/.mim/configs is how mim finds them).
    package_data={'refine_plugin': ['.mim/configs/**/*.py', '.mim/configs/**/*.yml']},
    python_requires='>=3.8',
    # Ranges that work together: mmdet 3.3 asserts mmcv<2.2; mmpose 1.3 needs mmengine>=0.6.
    install_requires=[
        'mmengine>=0.10.0,<1.0',
        'mmcv>=2.0.1,<2.2.0',
        'mmpose>=1.3.0,<1.4',
        'mmdet>=3.1.0,<3.4',
        'numpy',
        'opencv-python',
        'xtcocotools>=1.12',
        'pycocotools',
        'matplotlib',
        'scipy',
    ],
    extras_require={'deploy': ['onnx', 'onnxruntime', 'openvino>=2026.4'], 'tests': ['pytest']},
    license='Apache License 2.0',
    zip_safe=False,
)
