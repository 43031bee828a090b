"""CPU benchmark: the plugin's models against MMPose's references, in one run.

For each model (the given configs, then MMPose's 4xMSPN-50 and SimpleBaseline ResNet-50 at the
same input size): persons/s at each batch size for eager MMPose, the fast PyTorch path (BN folded,
channels_last, inference_mode, frozen TorchScript; with ``--inductor`` also compiled by
TorchInductor; each also in bfloat16 on CPUs with native bfloat16 arithmetic), ONNX Runtime,
OpenVINO (also in bfloat16 on those CPUs) and ONNX Runtime on the static int8 quantization of the
same export, each the median of ``--runs`` timed calls after warm-up (taken round-robin over all
rows), with the peak resident memory a call added; GFLOPs and the achieved GFLOP/s against this
machine's fp32 peak, measured by a large GEMM (in MKL and in oneDNN) timed in the same rounds.
Then the train data pipeline's samples/s against the first model's train step (with NCHW and with
channels_last input batches, and under bfloat16 autocast on CPUs with native bfloat16), and
PoseFix's pose rendering time.

All models use random weights (timing does not depend on them) and one forward per person (no
flip test, which doubles every path alike). Timings on a shared machine move with its load:
compare the ratios printed by one run, not numbers from different runs.

    python tools/benchmark.py configs/refine50/td-hm_4xrefine50_8xb32-210e_coco-256x192.py
"""
import argparse
import copy
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import openvino
import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmpose.apis import init_model
from mmpose.registry import DATASETS, MODELS

import refine_plugin  # noqa: F401  (registers the plugin's modules)
from analysis.benchmark_networks import TABLE_CONFIGS
from refine_plugin.datasets.synthetic import generate_dataset
from refine_plugin.deploy import (FastHeatmapNetwork, HeatmapNetwork, OpenVinoPoseInferencer,
                                  export_onnx, native_bfloat16_cpu)
from refine_plugin.deploy.quantization import calibration_crops, quantize_pose_model
from refine_plugin.models.pose_estimators.pose_heatmap_rendering import render_pose_heatmaps

MMPOSE_COCO = (Path(__import__('mmpose').__file__).parent / '.mim' / 'configs' /
               'body_2d_keypoint' / 'topdown_heatmap' / 'coco')
REFERENCES = {
    'MMPose 4xMSPN-50': MMPOSE_COCO / 'td-hm_4xmspn50_8xb32-210e_coco-256x192.py',
    'MMPose SimpleBaseline-R50': MMPOSE_COCO / 'td-hm_res50_8xb64-210e_coco-256x192.py',
}
REPO_ROOT = Path(__file__).resolve().parents[1]
PAGE_SIZE = 4096


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', default=TABLE_CONFIGS)
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--runs', type=int, default=5, help='timed calls per measurement')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--gemm-size', type=int, default=4096)
    parser.add_argument('--train-batch', type=int, default=4)
    parser.add_argument('--no-references', action='store_true')
    parser.add_argument('--inductor', action='store_true',
                        help='also the fast path compiled by TorchInductor (each model, dtype and '
                        'batch size compiles in the warm-up: minutes each on 2 cores)')
    parser.add_argument('--no-train', action='store_true',
                        help='skip the data pipeline / train step comparison')
    return parser.parse_args()


class PeakMemory:
    """Peak resident memory added while the block runs, sampled from /proc every 2 ms."""

    def __enter__(self):
        self.baseline = self.peak = self.rss()
        self.running = True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    @staticmethod
    def rss():
        with open('/proc/self/statm') as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE

    def sample(self):
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.002)

    @property
    def added_mb(self):
        return (self.peak - self.baseline) / 2**20


def median_seconds(call, runs, warmup):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm_call(size):
    """(row, call) of ``torch.mm`` on two size x size fp32 matrices: n^3 multiply-adds, so its
    "achieved GFLOP/s" is one measure of the machine's fp32 peak under the same load as the
    models."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    row = dict(model=f'torch.mm {size}x{size}', input='', path='fp32 GEMM', batch=1,
               gmacs=size**3 / 1e9)
    return row, lambda: torch.mm(a, b)


def conv_gemm_call(channels=1024, size=64):
    """(row, call) of a channels_last 1x1 conv, the same GEMM run by oneDNN, the library the
    models' convs run on. Why both: ``torch.mm`` goes to MKL, which on an AMD EPYC ran at less
    than half oneDNN's rate (172.9 against 377.0 GFLOP/s, 2 threads, one run), so it alone
    understated the peak and the fast paths showed up to 180% of it."""
    conv = torch.nn.Conv2d(channels, channels, 1, bias=False).eval()
    conv = conv.to(memory_format=torch.channels_last)
    x = torch.randn(1, channels, size, size).contiguous(memory_format=torch.channels_last)
    row = dict(model=f'1x1 conv {channels}->{channels} at {size}x{size}', input='',
               path='fp32 GEMM', batch=1, gmacs=channels**2 * size**2 / 1e9)

    def call():
        with torch.inference_mode():
            return conv(x)
    return row, call


def achieved_gflops(row):
    return 2 * row['gmacs'] * row['persons_s']


def load_cfg(config, input_size=None):
    """The config with random init, no flip test and, for references, the given input size."""
    path = Path(config)
    cfg = Config.fromfile(str(path if path.is_file() else REPO_ROOT / path))
    cfg.model.backbone.init_cfg = None
    cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {}, flip_test=False)
    if input_size is not None and tuple(cfg.model.head.decoder['input_size']) != input_size:
        heatmap_size = (input_size[0] // 4, input_size[1] // 4)
        cfg.model.head.decoder.update(input_size=input_size, heatmap_size=heatmap_size)
        if 'out_shape' in cfg.model.head:  # MSPNHead sizes its output itself
            cfg.model.head.out_shape = heatmap_size[::-1]
    return cfg


def model_gmacs(network, images):
    """Multiply-accumulates of one forward (what MMPose's tables call GFLOPs), in G."""
    analyzer = FlopAnalyzer(network, (images, ))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return analyzer.total() / 1e9


def fast_networks(model, inductor):
    """The fast paths by row name: TorchScript (and TorchInductor if asked), each in float32 and,
    where the CPU has native bfloat16 arithmetic, in bfloat16 (elsewhere oneDNN emulates it,
    slower than float32: no row)."""
    compilers = {'fast PyTorch': 'torchscript'}
    if inductor:
        compilers['fast inductor'] = 'inductor'
    dtypes = {'': torch.float32}
    if native_bfloat16_cpu():
        dtypes[' bf16'] = torch.bfloat16
    return {path + suffix: FastHeatmapNetwork(model, compiler=compiler, dtype=dtype)
            for path, compiler in compilers.items() for suffix, dtype in dtypes.items()}


def openvino_runtimes(onnx_file):
    """OpenVINO in float32 and, where the CPU has native bfloat16 arithmetic, in bfloat16 (as
    the fast path's bf16 rows), by row name."""
    precisions = {'OpenVINO': 'f32'}
    if native_bfloat16_cpu():
        precisions['OpenVINO bf16'] = 'bf16'
    return {path: OpenVinoPoseInferencer(str(onnx_file), precision=precision,
                                         num_threads=torch.get_num_threads())
            for path, precision in precisions.items()}


def inference_calls(name, model, batch_sizes, onnx_dir, calibration_data, inductor=False):
    """(row, call) for eager, fast, ONNX Runtime, OpenVINO and int8 ONNX Runtime inference at
    each batch size. The int8 model is calibrated on a few generated people (its speed does not
    depend on the scales it gets)."""
    input_w, input_h = model.cfg.model.head.decoder['input_size']
    eager = HeatmapNetwork(model).eval()
    fast = fast_networks(model, inductor)
    onnx_file = onnx_dir / f'{name}-{input_h}x{input_w}.onnx'
    export_onnx(model, onnx_file)
    session = ort.InferenceSession(str(onnx_file), providers=['CPUExecutionProvider'])
    int8_file = onnx_file.with_suffix('.int8.onnx')
    quantize_pose_model(str(onnx_file), str(int8_file),
                        calibration_crops(str(onnx_file), calibration_data['train_ann'],
                                          calibration_data['train_img'], num_persons=8))
    int8_session = ort.InferenceSession(str(int8_file), providers=['CPUExecutionProvider'])
    openvino = openvino_runtimes(onnx_file)
    gmacs = model_gmacs(eager, torch.zeros(1, 3, input_h, input_w))
    calls = []
    for batch_size in batch_sizes:
        images = torch.randn(batch_size, 3, input_h, input_w)
        paths = {'eager MMPose': lambda images=images: eager_forward(eager, images)}
        paths.update({path: lambda images=images, network=network: network(images)
                      for path, network in fast.items()})
        paths['ONNX Runtime'] = lambda images=images: session.run(
            None, {'images': images.numpy()})
        for path, inferencer in openvino.items():
            # each batch size's graph is compiled here, outside the timed calls
            request = inferencer.request_for(batch_size)
            paths[path] = lambda images=images.numpy(), request=request: request.infer(
                {0: images})
        paths['ONNX Runtime int8'] = lambda images=images: int8_session.run(
            None, {'images': images.numpy()})
        for path, call in paths.items():
            row = dict(model=name, input=f'{input_h}x{input_w}', path=path, batch=batch_size,
                       gmacs=gmacs)
            calls.append((row, call))
    return calls


def measure_round_robin(calls, runs, warmup):
    """Fill each row's persons/s (median) and peak memory, timing the calls in turn.

    One timed call of every row per round: when other jobs load the machine, every row sees
    the same load, so the ratios stay meaningful.
    """
    for _, call in calls:
        for _ in range(warmup):
            call()
    times = {id(row): [] for row, _ in calls}
    memory = {id(row): 0. for row, _ in calls}
    for round_index in range(runs):
        for row, call in calls:
            with PeakMemory() as peak:
                start = time.perf_counter()
                call()
                times[id(row)].append(time.perf_counter() - start)
            memory[id(row)] = max(memory[id(row)], peak.added_mb)
        print(f'round {round_index + 1}/{runs} done', file=sys.stderr, flush=True)
    for row, _ in calls:
        row.update(persons_s=row['batch'] / statistics.median(times[id(row)]),
                   memory_mb=memory[id(row)])
    return [row for row, _ in calls]


def eager_forward(network, images):
    with torch.no_grad():
        return network(images)


def pipeline_vs_train_step(cfg, model, args):
    """samples/s of the config's train pipeline (one worker) and of a train step at batch B, the
    latter with NCHW and with channels_last input batches, and on CPUs with native bfloat16 also
    under ``AutocastOptimWrapper``, timed alternately."""
    with tempfile.TemporaryDirectory() as data_dir:
        data = generate_dataset(data_dir, num_train=4, num_val=1, seed=0)
        dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
        dataset_cfg.update(data_root=data['root'], ann_file=data['train_ann'],
                           data_prefix=dict(img=data['train_img'] + '/'))
        dataset = DATASETS.build(dataset_cfg)
        num_samples = max(2 * args.train_batch, 16)
        start = time.perf_counter()
        samples = [dataset[i % len(dataset)] for i in range(num_samples)]
        pipeline_rate = num_samples / (time.perf_counter() - start)

    model.train()
    batch = pseudo_collate(samples[:args.train_batch])
    preprocessors = {
        layout: MODELS.build(dict(cfg.model.data_preprocessor, type=preprocessor))
        for layout, preprocessor in (('NCHW', 'PoseDataPreprocessor'),
                                     ('channels_last', 'ChannelsLastPoseDataPreprocessor'))}
    variants = [('NCHW inputs', 'NCHW', 'OptimWrapper'),
                ('channels_last inputs', 'channels_last', 'OptimWrapper')]
    if native_bfloat16_cpu():
        variants.append(('channels_last inputs under bfloat16 autocast', 'channels_last',
                         'AutocastOptimWrapper'))

    def train_step(preprocessor, optim_wrapper):
        # BaseModel.train_step, with the variant's preprocessor in place of the model's
        with optim_wrapper.optim_context(model):
            inputs = preprocessor(batch, training=True)
            losses = model(**inputs, mode='loss')
        optim_wrapper.update_params(model.parse_losses(losses)[0])

    optim_wrappers = {
        wrapper_type: build_optim_wrapper(
            model, dict(type=wrapper_type, optimizer=dict(type='Adam', lr=1e-4)))
        for _, _, wrapper_type in variants}
    calls = [(dict(variant=variant, batch=args.train_batch),
              lambda preprocessor=preprocessors[layout], optim_wrapper=optim_wrappers[wrapper_type]:
                  train_step(preprocessor, optim_wrapper))
             for variant, layout, wrapper_type in variants]
    rows = measure_round_robin(calls, args.runs, warmup=1)
    model.eval()
    return pipeline_rate, {row['variant']: row['persons_s'] for row in rows}


def posefix_render_ms_per_person(input_size, num_persons=64, sigma=7.0):
    """PoseFix's input-pose heatmaps at the refiner's input size (sigma 7 px as in PoseFix)."""
    width, height = input_size
    keypoints = torch.rand(num_persons, 17, 2) * torch.tensor([width, height])
    visible = torch.ones(num_persons, 17)
    seconds = median_seconds(
        lambda: render_pose_heatmaps(keypoints, visible, (width, height), sigma), 5, 2)
    return seconds / num_persons * 1e3


def print_table(rows, peak_gflops, reference_rates):
    print('| model | input | path | batch | persons/s | x eager 4xMSPN-50 | peak RSS added (MB) | '
          'GFLOPs (MACs) | achieved GFLOP/s | % of fp32 peak |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for row in rows:
        achieved = achieved_gflops(row)
        reference = reference_rates.get((row['input'], row['batch']))
        ratio = f"{row['persons_s'] / reference:.2f}" if reference else 'n/a'
        print(f"| {row['model']} | {row['input']} | {row['path']} | {row['batch']} | "
              f"{row['persons_s']:.2f} | {ratio} | {row['memory_mb']:.0f} | {row['gmacs']:.2f} | "
              f"{achieved:.1f} | {100 * achieved / peak_gflops:.0f}% |")


def print_targets(rows, peak_gflops, reference_rates):
    """The issue's targets per plugin model and batch: the faster deployed path must reach 2x
    eager MMPose 4xMSPN-50 persons/s at the same input and 40% of the measured fp32 peak."""
    for row in rows:
        reference = reference_rates.get((row['input'], row['batch']))
        if row['model'] in REFERENCES or row['path'] == 'eager MMPose' or not reference:
            continue
        speedup = row['persons_s'] / reference
        peak_share = achieved_gflops(row) / peak_gflops
        verdict = 'met' if speedup >= 2 and peak_share >= 0.4 else 'NOT met'
        print(f"target {verdict}: {row['model']} {row['path']} batch {row['batch']}: "
              f'{speedup:.2f}x eager 4xMSPN-50 (>= 2), {100 * peak_share:.0f}% of fp32 peak (>= 40%)')


def main():
    args = parse_args()
    # tracing MMPose's heads warns about their shape assertions, which hold for fixed inputs
    warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
    torch.manual_seed(0)
    print(f'torch {torch.__version__}, onnxruntime {ort.__version__}, '
          f'openvino {openvino.get_version()}, {torch.get_num_threads()} threads, '
          f'native bfloat16 arithmetic: {native_bfloat16_cpu()} (without it there are no bf16 '
          'rows)')
    calls, train_rates, input_sizes = [gemm_call(args.gemm_size), conv_gemm_call()], None, []
    with tempfile.TemporaryDirectory() as onnx_dir:
        calibration_data = generate_dataset(Path(onnx_dir, 'calibration'), num_train=4,
                                            num_val=1, seed=0)
        for config in args.configs:
            cfg = load_cfg(config)
            model = init_model(cfg, None, device='cpu').eval()
            input_sizes.append(tuple(cfg.model.head.decoder['input_size']))
            calls += inference_calls(Path(config).stem, model, args.batch_sizes, Path(onnx_dir),
                                     calibration_data, args.inductor)
            if train_rates is None and not args.no_train:
                train_rates = (Path(config).stem, *pipeline_vs_train_step(cfg, model, args))
        if not args.no_references:
            for input_size in dict.fromkeys(input_sizes):
                for name, config in REFERENCES.items():
                    model = init_model(load_cfg(config, input_size), None, device='cpu').eval()
                    calls += inference_calls(name, model, args.batch_sizes, Path(onnx_dir),
                                             calibration_data, args.inductor)
        mkl_gemm, onednn_gemm, *rows = measure_round_robin(calls, args.runs, args.warmup)
    peak_probes = (mkl_gemm, onednn_gemm)

    peak_gflops = max(achieved_gflops(probe) for probe in peak_probes)
    print(f'fp32 peak: {peak_gflops:.1f} GFLOP/s, the faster of '
          + ' and '.join(f'{probe["model"]} ({achieved_gflops(probe):.1f})'
                         for probe in peak_probes)
          + f' (2 flops per multiply-add), median of {args.runs} calls timed in the same rounds '
          f'as the models, {torch.get_num_threads()} threads')
    reference_rates = {(r['input'], r['batch']): r['persons_s'] for r in rows
                       if r['model'] == 'MMPose 4xMSPN-50' and r['path'] == 'eager MMPose'}
    print()
    print_table(rows, peak_gflops, reference_rates)
    print()
    print_targets(rows, peak_gflops, reference_rates)
    print('\nGFLOPs: multiply-accumulates of one forward (the convention of MMPose\'s tables); '
          'achieved GFLOP/s counts 2 flops per MAC, like the GEMM peak. int8 rows do the same '
          'MACs in int8 arithmetic and bf16 rows in bfloat16, so their share of the fp32 peak can '
          'pass 100%; check their accuracy with tools/deploy/evaluate_onnx.py and '
          'tools/deploy/evaluate_fast_path.py.')
    if train_rates:
        name, pipeline_rate, step_rates = train_rates
        print(f'\ntrain data pipeline ({name}, one worker, generated images): '
              f'{pipeline_rate:.1f} samples/s; train step at batch {args.train_batch}: '
              + ', '.join(f'{rate:.2f} samples/s with {variant}'
                          f' ({rate / step_rates["NCHW inputs"]:.2f}x NCHW\'s)'
                          for variant, rate in step_rates.items())
              + '; '
              f'workers needed to keep up: '
              f'{max(1, int(np.ceil(max(step_rates.values()) / pipeline_rate)))}')
    print(f'PoseFix input-pose rendering at 256x192, 17 joints: '
          f'{posefix_render_ms_per_person((192, 256)):.3f} ms/person')


if __name__ == '__main__':
    main()
