"""The fast inference path and ONNX deployment compute what MMPose computes.

- BN folding is exact (1e-4) on MMPose's MSPN and SimpleBaseline and on the plugin's network, with
  non-trivial BN statistics; the frozen channels_last fast path matches eager too.
- The numpy decoders and crops of ``ort_pose`` reproduce MMPose's codecs and TopdownAffine.
- Exported ONNX models, run by ``OnnxPoseInferencer`` on generated images, give the keypoints of
  ``mmpose.apis.inference_topdown`` (flip test included) within 0.5 px, also in a process where
  importing mmcv, mmpose or torch fails; ``OpenVinoPoseInferencer`` gives ONNX Runtime's heatmaps
  in float32 and follows them in bfloat16.
"""
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import pycocotools_stats
from mmengine.config import Config

import refine_plugin  # noqa: F401  (registers the plugin's modules)
from refine_plugin.deploy import (FastHeatmapNetwork, FastPoseInferencer, HeatmapNetwork,
                                  OnnxPoseInferencer, OpenVinoPoseInferencer, export_onnx,
                                  fold_batchnorm, native_bfloat16_cpu)
from refine_plugin.deploy.ort_pose import crop_persons, decode_heatmaps, open_pose_model

REPO_ROOT = Path(__file__).resolve().parents[1]
MMPOSE_CONFIGS = Path(__import__('mmpose').__file__).parent / '.mim' / 'configs'
COCO_CONFIGS = MMPOSE_CONFIGS / 'body_2d_keypoint' / 'topdown_heatmap' / 'coco'


def small_simplebaseline_cfg(unbiased=False):
    """MMPose's SimpleBaseline config at ResNet-18 width and 128x96, so tests stay fast."""
    cfg = Config.fromfile(COCO_CONFIGS / 'td-hm_res50_8xb64-210e_coco-256x192.py')
    codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2,
                 unbiased=unbiased)
    cfg.model.backbone.update(depth=18, init_cfg=None)
    cfg.model.head.update(in_channels=512, decoder=codec)
    for transform in cfg.test_dataloader.dataset.pipeline:
        if transform['type'] == 'TopdownAffine':
            transform['input_size'] = codec['input_size']
    return cfg


MODEL_CFGS = {
    'mmpose_mspn': lambda: Config.fromfile(
        REPO_ROOT / 'configs/cpu/td-hm_2xmspn-tiny_1xb32-16e_synthetic-128x96.py'),
    'mmpose_simplebaseline': small_simplebaseline_cfg,
    'mmpose_simplebaseline_dark': lambda: small_simplebaseline_cfg(unbiased=True),
    'plugin_refine': lambda: Config.fromfile(
        REPO_ROOT / 'configs/cpu/td-hm_2xrefine-tiny_1xb32-16e_synthetic-128x96.py'),
}


def randomize_batchnorm(model, seed=0):
    """Give every BN statistics and affine far from the identity, so folding is really tested."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            shape = module.running_mean.shape
            module.running_mean.copy_(torch.randn(shape, generator=generator) * 0.2)
            module.running_var.copy_(torch.rand(shape, generator=generator) * 1.5 + 0.5)
            module.weight.data.copy_(torch.rand(shape, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(shape, generator=generator) * 0.2)


def build_model(name):
    from mmpose.apis import init_model
    torch.manual_seed(0)
    model = init_model(MODEL_CFGS[name](), None, device='cpu')
    with torch.no_grad():
        randomize_batchnorm(model)
    return model.eval()


def crops_for(model, batch_size=2, seed=0):
    input_w, input_h = model.cfg.model.head.decoder['input_size']
    return torch.randn(batch_size, 3, input_h, input_w, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('name', ['mmpose_mspn', 'mmpose_simplebaseline', 'plugin_refine'])
def test_batchnorm_folding_is_exact(name):
    model = build_model(name)
    network = HeatmapNetwork(model).eval()
    images = crops_for(model)
    with torch.no_grad():
        expected = network(images)
        num_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in network.modules())
        num_folded = fold_batchnorm(network, images[:1])
        folded = network(images)
    assert num_folded == num_bn > 0
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in network.modules())
    assert expected.abs().max() > 1e-2
    torch.testing.assert_close(folded, expected, atol=1e-4, rtol=1e-4)


def test_folding_leaves_a_conv_output_used_elsewhere_alone():
    class ConvFeedsTwo(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)
            self.bn = torch.nn.BatchNorm2d(4)

        def forward(self, x):
            y = self.conv(x)
            return self.bn(y) + y

    network = ConvFeedsTwo().eval()
    randomize_batchnorm(network)
    images = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        expected = network(images)
        fold_batchnorm(network, images)
    # folding would change ``y`` for the addition too: the pair must be left alone
    assert isinstance(network.bn, torch.nn.BatchNorm2d)
    with torch.no_grad():
        torch.testing.assert_close(network(images), expected, atol=1e-4, rtol=1e-4)


def test_in_graph_flip_matches_mmpose_flip_heatmaps():
    model = build_model('mmpose_simplebaseline')
    network = HeatmapNetwork.from_test_cfg(model, model.dataset_meta['flip_indices']).eval()
    assert model.test_cfg['flip_test'] and model.test_cfg['shift_heatmap']
    images = crops_for(model)
    from mmpose.models.utils.tta import flip_heatmaps
    with torch.no_grad():
        plain = model.head.forward(model.extract_feat(images))
        mirrored = model.head.forward(model.extract_feat(images.flip(-1)))
        expected = (plain + flip_heatmaps(mirrored, model.dataset_meta['flip_indices'],
                                          'heatmap', shift_heatmap=True)) * 0.5
        torch.testing.assert_close(network(images), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('name,compiler', [('mmpose_mspn', 'torchscript'),
                                           ('plugin_refine', 'torchscript'),
                                           ('plugin_refine', 'inductor')])
def test_fast_path_matches_eager(name, compiler):
    model = build_model(name)
    images = crops_for(model, batch_size=3)
    with torch.no_grad():
        expected = HeatmapNetwork.from_test_cfg(model, model.dataset_meta['flip_indices'])(images)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        fast = FastHeatmapNetwork(model, compiler=compiler)
    # torch's TorchScript deprecation notices concern the plugin's choice, not the caller's
    assert not [w for w in caught if issubclass(w.category, FutureWarning)]
    torch.testing.assert_close(fast(images), expected, atol=1e-4, rtol=1e-4)


def heatmap_correlation(expected, heatmaps):
    """Cosine similarity of each pair of ``(B, K, H, W)`` heatmaps, as ``(B, K)``."""
    return ((expected * heatmaps).sum(axis=(2, 3))
            / np.linalg.norm(expected, axis=(2, 3)) / np.linalg.norm(heatmaps, axis=(2, 3)))


@pytest.mark.parametrize('name', ['mmpose_mspn', 'plugin_refine'])
def test_bfloat16_fast_path_follows_float32(name):
    model = build_model(name)
    images = crops_for(model, batch_size=3)
    float32 = FastHeatmapNetwork(model)(images)
    bfloat16 = FastHeatmapNetwork(model, dtype=torch.bfloat16)(images)
    assert bfloat16.dtype == torch.float32 and bfloat16.shape == float32.shape
    # it really ran in bfloat16 (8-bit mantissa), yet gives the same maps
    assert not torch.allclose(bfloat16, float32, atol=1e-4, rtol=1e-4)
    correlation = heatmap_correlation(float32.numpy(), bfloat16.numpy())
    print(f'{name}: bf16 vs fp32 heatmap correlation, median {np.median(correlation):.5f}, '
          f'min {correlation.min():.5f}')
    assert correlation.min() > 0.99
    # only the heatmap predictors, whose outputs are decoded to sub-pixel positions, stay float32
    network = FastHeatmapNetwork(model, compiler=None, dtype=torch.bfloat16).network
    dtypes = {}
    for conv in network.modules():
        if isinstance(conv, torch.nn.Conv2d):
            dtypes.setdefault(conv.out_channels == 17, set()).add(conv.weight.dtype)
    assert dtypes == {True: {torch.float32}, False: {torch.bfloat16}}


def test_fast_path_refuses_other_dtypes_and_compilers():
    with pytest.raises(ValueError, match='float16'):
        FastHeatmapNetwork(build_model('plugin_refine'), dtype=torch.float16)
    with pytest.raises(ValueError, match="'tensorrt'"):
        FastHeatmapNetwork(build_model('plugin_refine'), compiler='tensorrt')


def random_heatmaps(codec, num_keypoints=17, seed=0):
    """Heatmaps of an MMPose codec for random keypoints, plus noise so ties cannot happen."""
    from mmpose.registry import KEYPOINT_CODECS
    rng = np.random.default_rng(seed)
    encoder = KEYPOINT_CODECS.build(codec)
    input_w, input_h = codec['input_size']
    keypoints = rng.uniform([4, 4], [input_w - 4, input_h - 4], (1, num_keypoints, 2))
    heatmaps = encoder.encode(keypoints, np.ones((1, num_keypoints)))['heatmaps']
    heatmaps = heatmaps + rng.uniform(0, 0.01 * heatmaps.max(), heatmaps.shape)
    return encoder, heatmaps.astype(np.float32)


@pytest.mark.parametrize('codec', [
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2),
    dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2,
         unbiased=True),
    dict(type='MegviiHeatmap', input_size=(192, 256), heatmap_size=(48, 64), kernel_size=11),
    dict(type='MegviiHeatmap', input_size=(96, 128), heatmap_size=(24, 32), kernel_size=5),
    dict(type='SoftmaxHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2, beta=10.),
    dict(type='SoftmaxHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=1.1, beta=10.,
         refinement='dark', blur_kernel_size=5),
    dict(type='SoftmaxHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=1.1, beta=10.,
         refinement='quarter'),
])
def test_numpy_decoders_match_mmpose_codecs(codec):
    encoder, heatmaps = random_heatmaps(codec)
    expected_keypoints, expected_scores = encoder.decode(heatmaps)
    keypoints, scores = decode_heatmaps(heatmaps, codec)
    np.testing.assert_allclose(keypoints, expected_keypoints[0], atol=1e-4)
    np.testing.assert_allclose(scores, expected_scores[0], atol=1e-5)


def test_unknown_codec_is_refused():
    with pytest.raises(ValueError, match='SimCCLabel'):
        decode_heatmaps(np.zeros((17, 8, 8), np.float32), dict(type='SimCCLabel'))


def test_unknown_softmax_refinement_in_metadata_is_refused():
    codec = dict(type='SoftmaxHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=0.45,
                 refinement='darkpose')
    with pytest.raises(ValueError, match="'darkpose'"):
        decode_heatmaps(np.zeros((17, 16, 12), np.float32), codec)


def test_crops_match_mmpose_topdown_affine():
    from mmpose.datasets.transforms import GetBBoxCenterScale, TopdownAffine
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    bboxes = np.array([[10.5, 20, 110, 230], [150, 30, 300.25, 90], [0, 0, 319, 239]], np.float32)
    crops, centers, scales = crop_persons(image, bboxes, (96, 128))
    for crop, center, scale, bbox in zip(crops, centers, scales, bboxes):
        results = dict(img=image.copy(), bbox=bbox[None], img_shape=image.shape[:2])
        results = TopdownAffine(input_size=(96, 128))(GetBBoxCenterScale()(results))
        np.testing.assert_array_equal(crop, results['img'])
        np.testing.assert_allclose(center, results['bbox_center'][0])
        np.testing.assert_allclose(scale, results['bbox_scale'][0])


@pytest.fixture(scope='module')
def generated_data(tmp_path_factory):
    from refine_plugin.datasets.synthetic import generate_dataset
    return generate_dataset(tmp_path_factory.mktemp('deploy_data'), num_train=4, num_val=2,
                            seed=3)


@pytest.fixture(scope='module')
def generated_val(generated_data):
    """Generated val images with their ground-truth person boxes (xyxy)."""
    annotations = json.loads(Path(generated_data['val_ann']).read_text())
    images = []
    for image in annotations['images']:
        boxes = [a['bbox'] for a in annotations['annotations'] if a['image_id'] == image['id']]
        xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in boxes], np.float32)
        images.append((str(Path(generated_data['val_img']) / image['file_name']), xyxy))
    return images


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """name -> (PyTorch model, path of its ONNX export), made on first use."""
    out_dir = tmp_path_factory.mktemp('onnx')
    cache = {}

    def get(name):
        if name not in cache:
            model = build_model(name)
            export_onnx(model, out_dir / f'{name}.onnx')
            cache[name] = (model, out_dir / f'{name}.onnx')
        return cache[name]

    return get


@pytest.mark.parametrize('name', list(MODEL_CFGS))
def test_onnx_runtime_keypoints_match_pytorch(name, exported, generated_val):
    from mmpose.apis import inference_topdown
    model, onnx_file = exported(name)
    inferencer = OnnxPoseInferencer(onnx_file, providers=['CPUExecutionProvider'])
    num_persons = 0
    for image_file, bboxes in generated_val:
        samples = inference_topdown(model, image_file, bboxes)
        expected = np.concatenate([s.pred_instances.keypoints for s in samples])
        expected_scores = np.concatenate([s.pred_instances.keypoint_scores for s in samples])
        keypoints, scores = inferencer(cv2.imread(image_file), bboxes)
        assert keypoints.shape == expected.shape
        assert np.abs(keypoints - expected).max() <= 0.5, image_file
        np.testing.assert_allclose(scores, expected_scores, atol=1e-3, rtol=1e-3)
        num_persons += len(bboxes)
    assert num_persons >= 2


def assert_same_keypoints(inferencer, expected_inferencer, generated_val):
    """Both inferencers find each generated person's keypoints within 0.5 px, scores within 1e-3."""
    for image_file, bboxes in generated_val:
        image = cv2.imread(image_file)
        expected, expected_scores = expected_inferencer(image, bboxes)
        keypoints, scores = inferencer(image, bboxes)
        assert np.abs(keypoints - expected).max() <= 0.5, image_file
        np.testing.assert_allclose(scores, expected_scores, atol=1e-3, rtol=1e-3)


def test_fast_pose_inferencer_gives_the_onnx_inferencers_keypoints(exported, generated_val):
    model, onnx_file = exported('plugin_refine')
    onnx_runtime = OnnxPoseInferencer(onnx_file, providers=['CPUExecutionProvider'])
    fast = FastPoseInferencer(model, batch_size=2)
    assert fast.meta == onnx_runtime.meta
    assert_same_keypoints(fast, onnx_runtime, generated_val)


@pytest.mark.parametrize('name', ['mmpose_mspn', 'mmpose_simplebaseline_dark', 'plugin_refine'])
def test_openvino_gives_onnx_runtimes_heatmaps_and_keypoints(name, exported, generated_val):
    _, onnx_file = exported(name)
    onnx_runtime = OnnxPoseInferencer(onnx_file, providers=['CPUExecutionProvider'])
    # batches of 2: 3 crops make a batch of 2 and a last one of 1, which OpenVINO runs through a
    # graph compiled for that batch size
    openvino = OpenVinoPoseInferencer(onnx_file, batch_size=2)
    assert openvino.meta == onnx_runtime.meta
    crops = crops_for(build_model(name), batch_size=3).numpy()
    expected = onnx_runtime.heatmaps(crops)
    np.testing.assert_allclose(openvino.heatmaps(crops), expected, rtol=1e-4,
                               atol=1e-4 * np.abs(expected).max())
    assert sorted(openvino.requests) == [1, 2]
    assert_same_keypoints(openvino, onnx_runtime, generated_val)


@pytest.mark.skipif(not native_bfloat16_cpu(), reason='the CPU has no native bfloat16 arithmetic')
@pytest.mark.parametrize('name', ['mmpose_mspn', 'plugin_refine'])
def test_openvino_bfloat16_follows_float32(name, exported):
    _, onnx_file = exported(name)
    crops = crops_for(build_model(name), batch_size=3).numpy()
    float32 = OpenVinoPoseInferencer(onnx_file).heatmaps(crops)
    bfloat16 = OpenVinoPoseInferencer(onnx_file, precision='bf16').heatmaps(crops)
    # it really ran in bfloat16, yet gives the same maps
    assert not np.allclose(bfloat16, float32, atol=1e-4, rtol=1e-4)
    correlation = heatmap_correlation(float32, bfloat16)
    print(f'{name}: OpenVINO bf16 vs fp32 heatmap correlation, median '
          f'{np.median(correlation):.5f}, min {correlation.min():.5f}')
    assert correlation.min() > 0.99


def test_openvino_inferencer_refuses_bad_files_and_precisions(exported, tmp_path):
    _, onnx_file = exported('plugin_refine')
    with pytest.raises(ValueError, match='precision must be one of'):
        OpenVinoPoseInferencer(onnx_file, precision='f16')
    with pytest.raises(ValueError, match='missing.onnx: no such ONNX model file'):
        OpenVinoPoseInferencer(tmp_path / 'missing.onnx')
    garbage = tmp_path / 'garbage.onnx'
    garbage.write_bytes(b'not a protobuf at all')
    with pytest.raises(ValueError, match='garbage.onnx: not an ONNX model'):
        OpenVinoPoseInferencer(garbage)
    plain = tmp_path / 'plain.onnx'
    torch.onnx.export(torch.nn.Conv2d(3, 17, 1), (torch.zeros(1, 3, 8, 8), ), str(plain),
                      dynamo=False)
    with pytest.raises(ValueError, match="plain.onnx: no 'refine_plugin' metadata"):
        OpenVinoPoseInferencer(plain)


@pytest.mark.parametrize('name', ['mmpose_mspn', 'plugin_refine'])
def test_int8_model_keeps_the_heatmaps_and_the_metadata(name, exported, generated_data,
                                                       tmp_path):
    import onnx
    from refine_plugin.deploy.quantization import calibration_crops, quantize_pose_model
    _, onnx_file = exported(name)
    int8_file = tmp_path / 'int8.onnx'
    crops = calibration_crops(str(onnx_file), generated_data['train_ann'],
                              generated_data['train_img'], num_persons=16)
    quantize_pose_model(str(onnx_file), str(int8_file), crops)

    graph = onnx.load(str(int8_file)).graph
    int8_weights = {i.name for i in graph.initializer if i.data_type == onnx.TensorProto.INT8}
    convs = [node for node in graph.node if node.op_type == 'Conv']
    dequantized = {node.output[0] for node in graph.node
                   if node.op_type == 'DequantizeLinear' and node.input[0] in int8_weights}
    assert convs and all(conv.input[1] in dequantized for conv in convs)

    fp32 = OnnxPoseInferencer(onnx_file, providers=['CPUExecutionProvider'])
    int8 = OnnxPoseInferencer(int8_file, providers=['CPUExecutionProvider'])
    assert int8.meta == fp32.meta
    images = calibration_crops(str(onnx_file), generated_data['val_ann'],
                               generated_data['val_img'])
    # correlation of each heatmap with its fp32 counterpart: the maps' shapes, not their offsets
    expected, heatmaps = (h - h.mean(axis=(2, 3), keepdims=True)
                          for h in (fp32.heatmaps(images), int8.heatmaps(images)))
    correlation = heatmap_correlation(expected, heatmaps)
    print(f'{name}: int8 vs fp32 heatmap correlation, median {np.median(correlation):.4f}, '
          f'min {correlation.min():.4f}')
    assert np.median(correlation) > 0.98


def own_poses_as_ground_truth(inferencer, ann_file, img_dir, out_file):
    """``ann_file`` with each annotated person's keypoints replaced by ``inferencer``'s (all
    labelled): on it, that model scores AP 1 and any model whose joints differ scores less, so
    untrained models give AP far from 0 and the tool's numbers can be told apart."""
    from refine_plugin.apis.coco_evaluation import count_labelled_keypoints
    from refine_plugin.deploy.annotated_people import predict_annotated_people
    results, _ = predict_annotated_people(inferencer, ann_file, img_dir)
    coco = json.loads(Path(ann_file).read_text())
    people_of = {}  # annotated people image by image, in the order annotated_people yields them
    for ann in coco['annotations']:
        if count_labelled_keypoints(ann) > 0:  # annotated_people's rule
            people_of.setdefault(ann['image_id'], []).append(ann)
    people = [ann for anns in people_of.values() for ann in anns]
    assert [ann['image_id'] for ann in people] == [r['image_id'] for r in results]
    for ann, result in zip(people, results):
        keypoints = np.reshape(result['keypoints'], (-1, 3))
        keypoints[:, 2] = 2
        ann.update(keypoints=keypoints.ravel().tolist(), num_keypoints=len(keypoints))
    Path(out_file).write_text(json.dumps(coco))
    return str(out_file)


def test_quantize_and_evaluate_tools(exported, generated_data, tmp_path):
    _, onnx_file = exported('mmpose_mspn')
    int8_file = tmp_path / 'int8.onnx'
    subprocess.run([sys.executable, 'tools/deploy/quantize_onnx.py', str(onnx_file),
                    str(int8_file), '--ann', generated_data['train_ann'], '--img-dir',
                    generated_data['train_img'], '--num-persons', '4'],
                   cwd=REPO_ROOT, check=True, capture_output=True, text=True, timeout=600)
    ann_file = own_poses_as_ground_truth(
        OnnxPoseInferencer(onnx_file, providers=['CPUExecutionProvider']),
        generated_data['val_ann'], generated_data['val_img'], tmp_path / 'fp32_poses_as_gt.json')
    result = subprocess.run(
        [sys.executable, 'tools/deploy/evaluate_onnx.py', str(onnx_file), str(int8_file), '--ann',
         ann_file, '--img-dir', generated_data['val_img'], '--out-dir', str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split(' | ') for line in result.stdout.splitlines() if line.startswith('| ')][1:]
    assert [row[0] for row in rows] == ['| mmpose_mspn.onnx', '| int8.onnx']
    assert [float(x) for x in rows[0][5:7]] == [0, 0]  # the first model against itself
    # each row's AP, AP50, AP75 and AR are the reference COCO API's on the results file the tool
    # wrote for that model (printed to 4 decimals); the fp32 file holds the poses taken as truth
    written = {}
    for row, model_file in zip(rows, ('mmpose_mspn.onnx', 'int8.onnx')):
        results_file = tmp_path / f'{model_file}.keypoints.json'
        written[model_file] = json.loads(results_file.read_text())
        stats = pycocotools_stats(ann_file, str(results_file))
        np.testing.assert_allclose([float(x) for x in row[1:5]],
                                   [stats[0], stats[1], stats[2], stats[5]], rtol=0, atol=5e-5)
    assert float(rows[0][1]) == 1.0
    # the int8 row's distances are those between the two written files' keypoints (0.01 px)
    fp32, int8 = (np.array([r['keypoints'] for r in written[name]]).reshape(-1, 3)[:, :2]
                  for name in ('mmpose_mspn.onnx', 'int8.onnx'))
    distance = np.linalg.norm(int8 - fp32, axis=-1)
    np.testing.assert_allclose(
        [float(x) for x in rows[1][5:8]],
        [np.median(distance), np.percentile(distance, 95), distance.max()], rtol=0, atol=0.006)


def test_evaluate_onnx_tool_runs_a_model_on_each_runtime(exported, generated_data, tmp_path):
    _, onnx_file = exported('mmpose_mspn')
    ann_file = own_poses_as_ground_truth(
        OnnxPoseInferencer(onnx_file, providers=['CPUExecutionProvider']),
        generated_data['val_ann'], generated_data['val_img'], tmp_path / 'poses_as_gt.json')
    result = subprocess.run(
        [sys.executable, 'tools/deploy/evaluate_onnx.py', str(onnx_file), '--runtimes',
         'onnxruntime', 'openvino', '--ann', ann_file, '--img-dir', generated_data['val_img']],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split(' | ') for line in result.stdout.splitlines() if line.startswith('| ')][1:]
    assert [row[0] for row in rows] == ['| mmpose_mspn.onnx (onnxruntime)',
                                        '| mmpose_mspn.onnx (openvino)']
    # the poses taken as truth are ONNX Runtime's, and OpenVINO finds the same keypoints
    assert [float(x) for x in rows[0][1:2] + rows[1][1:2]] == [1.0, 1.0]
    assert float(rows[1][7]) < 0.01  # max distance from ONNX Runtime's keypoints, in px


def test_evaluate_fast_path_tool(generated_data, tmp_path):
    model = build_model('plugin_refine')
    checkpoint = tmp_path / 'model.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    result = subprocess.run(
        [sys.executable, 'tools/deploy/evaluate_fast_path.py',
         'configs/cpu/td-hm_2xrefine-tiny_1xb32-16e_synthetic-128x96.py', str(checkpoint),
         '--ann', generated_data['val_ann'], '--img-dir', generated_data['val_img']],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split(' | ') for line in result.stdout.splitlines() if line.startswith('| ')][1:]
    assert [row[0] for row in rows] == ['| fast PyTorch float32', '| fast PyTorch bfloat16']
    assert [float(x) for x in rows[0][5:7]] == [0, 0]  # float32 against itself
    # the bfloat16 row's distances are those between the two paths' keypoints in this process
    from refine_plugin.apis.coco_evaluation import count_labelled_keypoints
    from refine_plugin.deploy.annotated_people import predict_annotated_people
    keypoints = [predict_annotated_people(FastPoseInferencer(model, dtype=dtype),
                                          generated_data['val_ann'], generated_data['val_img'])[1]
                 for dtype in (torch.float32, torch.bfloat16)]
    distance = np.linalg.norm(keypoints[1] - keypoints[0], axis=-1)
    expected = [np.median(distance), np.percentile(distance, 95), distance.max()]
    assert expected[2] > 0
    np.testing.assert_allclose([float(x) for x in rows[1][5:8]], expected, atol=0.006)


@pytest.mark.parametrize('runtime', ['onnxruntime', 'openvino'])
def test_onnx_infer_tool_runs_without_mmcv_mmpose_or_torch(exported, generated_val, runtime):
    _, onnx_file = exported('plugin_refine')
    image_file, bboxes = generated_val[0]
    tool = REPO_ROOT / 'tools' / 'deploy' / 'onnx_infer.py'
    script = f"""
import importlib.abc, runpy, sys

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('mmcv', 'mmpose', 'mmengine', 'torch', 'refine_plugin'):
            raise ImportError('blocked: ' + name)

sys.meta_path.insert(0, Blocker())
sys.argv = [{str(tool)!r}, {str(onnx_file)!r}, {image_file!r}, '--runtime', {runtime!r},
            '--bboxes'] + {[str(v) for v in bboxes.ravel()]!r}
runpy.run_path(sys.argv[0], run_name='__main__')
"""
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    people = json.loads(result.stdout)
    in_process, _ = open_pose_model(onnx_file, runtime)(cv2.imread(image_file), bboxes)
    assert len(people) == len(bboxes)
    # the tool prints keypoints rounded to 0.01 px
    np.testing.assert_allclose(np.array([p['keypoints'] for p in people]), in_process, atol=0.01)


@pytest.mark.parametrize('args, problem', [
    (['--out', 'no_such_folder/vis.jpg'], 'its folder does not exist'),
    (['--out', 'vis'], 'OpenCV cannot write this image format'),
    (['--bboxes', '50', '50', '10', '10'], 'box 0 [50, 50, 10, 10] is not x1 y1 x2 y2'),
    (['--bboxes', '1', '2', '3'], '--bboxes needs 4 numbers per box, got 3'),
    (['--runtime', 'tensorrt'], "argument --runtime: invalid choice: 'tensorrt'"),
])
def test_onnx_infer_tool_checks_its_arguments_before_inference(exported, generated_val,
                                                              tmp_path, args, problem):
    _, onnx_file = exported('plugin_refine')
    image_file, _ = generated_val[0]
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / 'tools/deploy/onnx_infer.py'), str(onnx_file),
         image_file, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and problem in result.stderr, result.stderr
    assert result.stdout == ''  # refused before any keypoint was computed
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_no_model_file(monkeypatch, tmp_path):
    """The model appears whole, metadata included, or not at all: a crash between the graph
    and the metadata used to leave a valid-looking file that ort_pose refuses."""
    model = build_model('plugin_refine')

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr('onnx.helper.set_model_props', crash)
    with pytest.raises(KeyboardInterrupt):
        export_onnx(model, tmp_path / 'model.onnx')
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    export_onnx(model, tmp_path / 'model.onnx')
    assert [path.name for path in tmp_path.iterdir()] == ['model.onnx']
    assert OnnxPoseInferencer(tmp_path / 'model.onnx').meta['num_keypoints'] == 17


def test_onnx_file_without_metadata_is_refused(tmp_path):
    onnx_file = tmp_path / 'plain.onnx'
    torch.onnx.export(torch.nn.Conv2d(3, 17, 1), (torch.zeros(1, 3, 8, 8), ), str(onnx_file),
                      dynamo=False)
    with pytest.raises(ValueError, match='plain.onnx'):
        OnnxPoseInferencer(onnx_file)


def test_inferencer_rejects_malformed_boxes(exported, generated_val):
    _, onnx_file = exported('plugin_refine')
    image_file, _ = generated_val[0]
    inferencer = OnnxPoseInferencer(onnx_file)
    with pytest.raises(ValueError, match=r'\(N, 4\)'):
        inferencer(cv2.imread(image_file), np.zeros((2, 5)))
    with pytest.raises(ValueError, match='BGR image'):
        inferencer(None, np.zeros((1, 4)))


def test_benchmark_prints_the_table_the_peak_and_the_target_verdicts():
    config = 'configs/cpu/td-hm_2xrefine-tiny_1xb32-16e_synthetic-128x96.py'
    result = subprocess.run(
        [sys.executable, 'tools/benchmark.py', config, '--batch-sizes', '1', '2', '--runs', '1',
         '--warmup', '0', '--gemm-size', '256', '--train-batch', '2'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    peak_line = out.split('fp32 peak: ')[1].splitlines()[0]
    peak = float(peak_line.split(' GFLOP/s')[0])
    # the faster of the two GEMM probes (MKL's torch.mm and oneDNN's 1x1 conv)
    probes = [float(x) for x in re.findall(r'\(([0-9.]+)\)', peak_line)]
    assert len(probes) == 2 and peak == max(probes) > 0
    rows = [line.split(' | ') for line in out.splitlines() if line.startswith('| ')][1:]
    # the plugin model and both MMPose references, five paths (seven with bfloat16: the fast
    # path's and OpenVINO's), two batch sizes
    num_paths = 7 if native_bfloat16_cpu() else 5
    assert len(rows) == 3 * num_paths * 2
    assert any(row[2] == 'fast PyTorch bf16' for row in rows) == native_bfloat16_cpu()
    assert any(row[2] == 'OpenVINO bf16' for row in rows) == native_bfloat16_cpu()
    assert any(row[2] == 'OpenVINO' for row in rows)
    eager_mspn = {row[3]: float(row[4]) for row in rows
                  if row[0] == '| MMPose 4xMSPN-50' and row[2] == 'eager MMPose'}
    assert set(eager_mspn) == {'1', '2'}
    for row in rows:
        persons_s, ratio, achieved = float(row[4]), row[5], float(row[8])
        assert persons_s > 0
        # persons/s, ratios and GFLOPs are printed to 0.01, achieved GFLOP/s to 0.1: the ratio is
        # bounded by its rounded operands, not equal to their quotient (at a busy host's 0.16
        # persons/s the rounding alone moves it by 3%)
        reference = eager_mspn[row[3]]
        assert ((persons_s - 0.005) / (reference + 0.005) - 0.005 <= float(ratio)
                <= (persons_s + 0.005) / (reference - 0.005) + 0.005)
        gmacs = float(row[7])
        assert achieved == pytest.approx(2 * gmacs * persons_s,
                                         abs=0.01 * (persons_s + gmacs) + 0.06)
    verdicts = [line for line in out.splitlines() if line.startswith('target ')]
    # one per fast path (fast PyTorch, ONNX Runtime, its int8, OpenVINO and, with bfloat16, the
    # fast path's and OpenVINO's bf16) and batch size of the plugin model
    assert len(verdicts) == (num_paths - 1) * 2
    assert 'samples/s with NCHW inputs' in out and 'samples/s with channels_last inputs' in out
    assert ('under bfloat16 autocast' in out) == native_bfloat16_cpu()
    assert 'ms/person' in out
