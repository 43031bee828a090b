"""MultiStageRefineHead: MMPose's MSPNHead with the coarse-to-fine supervision as its default."""
import torch
from mmengine.structures import PixelData
from mmpose.models.heads import MSPNHead
from mmpose.registry import MODELS

from .flip_alignment import flip_back_heatmaps, flip_shift_pixels


def coarse_to_fine_levels(num_stages, num_units):
    """Target level of each (stage, unit) output, stage-major.

    Level ``l`` is the ``l``-th of ``num_units + 1`` MegviiHeatmap targets with shrinking Gaussian
    kernels (15, 11, 9, 7, 5 for 4 units): the coarsest unit gets the widest kernel and the last
    stage is one level finer than the others, as in MMPose's 4xMSPN config.
    """
    early = list(range(num_units)) * (num_stages - 1)
    return early + list(range(1, num_units + 1))


def coarse_to_fine_losses(num_stages, num_units):
    """MSE (weight 0.25) on the first units of every stage, OHKM MSE (weight 1) on the last."""
    stage = [dict(type='KeypointMSELoss', use_target_weight=True, loss_weight=0.25)] * (
        num_units - 1) + [dict(type='KeypointOHKMMSELoss', use_target_weight=True, loss_weight=1.)]
    return stage * num_stages


@MODELS.register_module()
class MultiStageRefineHead(MSPNHead):
    """Per-unit heatmap predictors for ``MultiStageRefineNet`` with coarse-to-fine supervision.

    Identical to MMPose's ``MSPNHead`` (its state_dict loads unchanged) except that
    ``level_indices`` and ``loss`` default to the coarse-to-fine scheme for any
    ``num_stages``/``num_units``, so a
    config only changes the numbers; the train pipeline must then produce ``num_units + 1`` target
    levels (``GenerateTarget(multilevel=True, encoder=[...])``). Its flip test also takes
    ``test_cfg['shift_heatmap']='exact'``, the sub-pixel shift of ``flip_alignment``, and it
    returns bfloat16 heatmaps (autocast training) as float32.

    Args:
        num_stages (int): Stages of the backbone. Default: 4.
        num_units (int): Units per stage. Default: 4.
        level_indices (Sequence[int], optional): Target level per output; default
            :func:`coarse_to_fine_levels`.
        loss (dict | list[dict], optional): Loss per output; default :func:`coarse_to_fine_losses`.
        **kwargs: ``MSPNHead`` arguments (``out_shape``, ``unit_channels``, ``out_channels``,
            ``use_prm``, ``norm_cfg``, ``decoder``, ``init_cfg``).

    Example:
        >>> head = MultiStageRefineHead(num_stages=2, num_units=4, out_shape=(32, 24),
        ...                             unit_channels=64, out_channels=17)
        >>> head.level_indices
        [0, 1, 2, 3, 1, 2, 3, 4]
    """

    def __init__(self, num_stages=4, num_units=4, level_indices=None, loss=None, **kwargs):
        if level_indices is None:
            level_indices = coarse_to_fine_levels(num_stages, num_units)
        if loss is None:
            loss = coarse_to_fine_losses(num_stages, num_units)
        super().__init__(num_stages=num_stages, num_units=num_units,
                         level_indices=level_indices, loss=loss, **kwargs)

    def forward(self, feats):
        # Under autocast (``AutocastOptimWrapper``) the predictors return bfloat16 heatmaps; the
        # losses and MSPNHead's accuracy (in numpy) take them in float32. Running the predictors
        # themselves in float32 moved neither the loss (5e-5 from float32's either way, trained
        # weights) nor the gradients closer to float32's.
        return [heatmaps.float() if heatmaps.dtype == torch.bfloat16 else heatmaps
                for heatmaps in super().forward(feats)]

    def predict(self, feats, batch_data_samples, test_cfg=None):
        test_cfg = test_cfg or {}
        if not (test_cfg.get('flip_test', False) and test_cfg.get('shift_heatmap') == 'exact'):
            return super().predict(feats, batch_data_samples, test_cfg)
        if test_cfg.get('flip_mode', 'heatmap') != 'heatmap':
            raise ValueError("shift_heatmap='exact' needs flip_mode='heatmap', got "
                             f"{test_cfg['flip_mode']!r}")
        # MSPNHead.predict's flip test, with the flipped-back heatmaps moved by the sub-pixel shift
        plain_feats, mirrored_feats = feats
        mirrored = flip_back_heatmaps(self.forward(mirrored_feats)[-1],
                                      batch_data_samples[0].metainfo['flip_indices'],
                                      flip_shift_pixels('exact', self.decoder))
        batch_heatmaps = (self.forward(plain_feats)[-1] + mirrored) * 0.5
        preds = self.decode(batch_heatmaps)
        if test_cfg.get('output_heatmaps', False):
            return preds, [PixelData(heatmaps=heatmaps) for heatmaps in batch_heatmaps.detach()]
        return preds
