"""How far the Refine blocks' attention gates of a pose model have saturated, on its val crops.

A gate value below 0.05 or above 0.95 sits where the sigmoid passes almost no gradient: there the
gate acts as a switch and barely learns. Adam's normalised steps drive gates there even as their
gradients vanish, and a squeeze-excitation channel closed on every crop is one the block has lost::

    python tools/analysis/gate_saturation.py CONFIG [CHECKPOINT] [--data-root D] [--batches 4]

Without a checkpoint the model is as its modules construct it (MMPose's ``init_model``
skips ``init_cfg``): every spatial gate half open. Prints a Markdown table, one row per gate: the
mean gate value, the share of values saturated, and for squeeze-excitation the share of channels
closed (below 0.05) or open (above 0.95) on every crop seen.
"""
import argparse

import torch

from refine_plugin.models.backbones.refine_bottleneck import ChannelGate, SpatialGateConv

SATURATION_MARGIN = 0.05


class GateRecorder:
    """Records the values of every spatial gate and squeeze-excitation scale below a model while
    in a ``with`` block."""

    def __init__(self, model):
        self.model = model
        self.values = {}
        self._handles = []

    def __enter__(self):
        for name, module in self.model.named_modules():
            if isinstance(module, SpatialGateConv):
                # the conv gives the gate's logits; the block applies the sigmoid
                self._hook(module, name, 'spatial', torch.sigmoid)
            elif isinstance(module, ChannelGate):
                # conv2 ends in SELayer's sigmoid: its output is the per-channel scale
                self._hook(module.conv2, name, 'channel', lambda scale: scale.flatten(1))
        return self

    def _hook(self, module, name, kind, to_gate):
        def record(_module, _inputs, output):
            self.values.setdefault((name, kind), []).append(to_gate(output.detach().float()))
        self._handles.append(module.register_forward_hook(record))

    def __exit__(self, *exc_info):
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


def saturation_rows(values):
    """One dict per gate: mean value, saturated share and, for squeeze-excitation, the shares of
    channels closed or open on every recorded crop."""
    rows = []
    for (name, kind), batches in values.items():
        gate = torch.cat(batches)
        saturated = (gate < SATURATION_MARGIN) | (gate > 1 - SATURATION_MARGIN)
        row = dict(gate=name, kind=kind, mean=gate.mean().item(),
                   saturated=saturated.float().mean().item())
        if kind == 'channel':
            row['closed'] = (gate.amax(0) < SATURATION_MARGIN).float().mean().item()
            row['open'] = (gate.amin(0) > 1 - SATURATION_MARGIN).float().mean().item()
        rows.append(row)
    return rows


def markdown_table(rows):
    lines = ['| gate | kind | mean | saturated | channels closed | channels open |',
             '|---|---|---|---|---|---|']
    for row in rows:
        shares = [f"{row[key]:.2f}" if key in row else '' for key in ('closed', 'open')]
        lines.append(f"| {row['gate']} | {row['kind']} | {row['mean']:.3f} | "
                     f"{row['saturated']:.2f} | {' | '.join(shares)} |")
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='default: the model as constructed')
    parser.add_argument('--data-root', help="override the val dataset's data_root")
    parser.add_argument('--batches', type=int, default=4, help='val batches to record')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args()


def main():
    from mmengine.config import Config
    from mmengine.runner import Runner
    from mmpose.apis import init_model

    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.data_root:
        cfg.val_dataloader.dataset.data_root = args.data_root
    model = init_model(cfg, args.checkpoint, device=args.device)
    loader = Runner.build_dataloader(cfg.val_dataloader)
    with GateRecorder(model) as recorder, torch.no_grad():
        for index, batch in enumerate(loader):
            if index == args.batches:
                break
            model.test_step(batch)
    if not recorder.values:
        raise SystemExit(f'{args.config}: the model has no spatial or channel attention gates')
    print(markdown_table(saturation_rows(recorder.values)))


if __name__ == '__main__':
    main()
