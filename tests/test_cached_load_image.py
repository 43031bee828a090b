"""CachedLoadImage: MMPose's LoadImage, each file decoded once, the cache safe from its users."""
import cv2
import numpy as np
import pytest
from mmpose.datasets.transforms import LoadImage

from refine_plugin.datasets.transforms import CachedLoadImage


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / 'person.jpg'
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 256, (48, 64, 3), np.uint8))
    return path


def test_decodes_as_load_image_once_and_hands_out_copies(jpeg):
    expected = LoadImage()(dict(img_path=str(jpeg)))
    load = CachedLoadImage()
    first = load(dict(img_path=str(jpeg)))
    jpeg.unlink()  # from here on only the cache can serve it
    first['img'][:] = 0  # a transform writing into its image
    second = load(dict(img_path=str(jpeg)))
    np.testing.assert_array_equal(second['img'], expected['img'])
    assert second['img_shape'] == second['ori_shape'] == expected['img_shape'] == (48, 64)


def test_images_past_the_budget_are_loaded_every_time(jpeg):
    load = CachedLoadImage(max_cached_mb=0)
    load(dict(img_path=str(jpeg)))
    jpeg.unlink()
    with pytest.raises(Exception, match='person.jpg'):
        load(dict(img_path=str(jpeg)))


def test_given_array_passes_through_as_in_load_image():
    img = np.zeros((10, 20, 3), np.uint8)
    results = CachedLoadImage()(dict(img=img))
    assert results == LoadImage()(dict(img=img))
    assert results['img'] is img and results['img_shape'] == (10, 20)
    assert results['img_path'] is None
