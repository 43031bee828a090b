"""Procedural multi-person keypoint data in COCO format (see ``generate_dataset``)."""
from .dataset import generate_dataset, is_outdated

__all__ = ['generate_dataset', 'is_outdated']
