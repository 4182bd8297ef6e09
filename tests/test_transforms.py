"""tinygrad_cnn.data.transforms with torchvision's semantics, one sample at a time and on whole
batches (each sample's randomness its own)."""
import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.data import transforms as T

RNG = np.random.default_rng(0)


def test_to_tensor_scales_uint8_and_moves_channels_first():
    gray = RNG.integers(0, 256, (5, 4), dtype=np.uint8)
    out = T.ToTensor()(gray)
    assert isinstance(out, tc.Tensor) and out.shape == (1, 5, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy()[0], gray / 255, rtol=1e-6)
    rgb = RNG.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    np.testing.assert_allclose(T.ToTensor()(rgb).numpy(), rgb.transpose(2, 0, 1) / 255, rtol=1e-6)
    floats = RNG.standard_normal((5, 4, 2))
    kept = T.ToTensor()(floats)
    assert kept.dtype == np.float64 and np.array_equal(kept.numpy(), floats.transpose(2, 0, 1))  # not scaled
    np.testing.assert_allclose(T.ToTensor().batch(np.stack([rgb, rgb])), np.stack([rgb.transpose(2, 0, 1)] * 2) / 255,
                               rtol=1e-6)
    with pytest.raises(TypeError, match="ndarray"):
        T.ToTensor()([[1, 2]])


def test_normalize_per_channel_and_its_refusals():
    image = tc.tensor(RNG.random((3, 4, 4)).astype(np.float32))
    out = T.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))(image)
    expected = (image.numpy() - np.array([0.1, 0.2, 0.3])[:, None, None]) / np.array([0.5, 0.25, 2.0])[:, None, None]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)  # float32 against float64
    assert out.dtype == np.float32
    same = T.Normalize((0.5,), (0.5,), inplace=True)
    assert same(image) is image
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.0,), (0.0,))(image)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.0,), (1.0,))(tc.tensor(np.zeros((1, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize((0.0,), (1.0,))(tc.zeros(2, 2))


def test_compose_and_lambda():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda x: x * 2)])
    assert pipeline(np.full((2, 2), 255, np.uint8)).tolist() == [[[2.0, 2.0], [2.0, 2.0]]]
    assert not T.batchable(pipeline) and T.batchable(T.Compose([T.ToTensor(), T.Normalize((0,), (1,))]))


def test_random_horizontal_flip_flips_with_its_probability_per_sample():
    image = tc.arange(6.0).reshape(1, 2, 3)
    assert T.RandomHorizontalFlip(p=1.0)(image).tolist() == [[[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]]
    assert T.RandomHorizontalFlip(p=0.0)(image) is image
    tc.manual_seed(0)
    batch = np.repeat(np.arange(3.0)[None, None, None], 2000, axis=0)
    flipped = T.RandomHorizontalFlip(p=0.3).batch(batch)[:, 0, 0, 0] == 2.0
    assert 0.25 < flipped.mean() < 0.35


def test_random_crop_with_padding_takes_every_offset_and_matches_a_slice():
    image = np.arange(16.0).reshape(1, 4, 4)
    tc.manual_seed(1)
    seen = set()
    for _ in range(200):
        crop = T.RandomCrop(2, padding=1)(tc.tensor(image)).numpy()
        padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
        matches = [(i, j) for i in range(5) for j in range(5) if np.array_equal(padded[:, i:i + 2, j:j + 2], crop)]
        assert matches
        seen.update(matches)
    assert len(seen) == 25  # every offset of the padded 6 x 6 image
    batch = np.stack([image + 100 * k for k in range(50)])
    crops = T.RandomCrop(3, padding=(1, 2), padding_mode="edge").batch(batch)
    padded = np.pad(batch, ((0, 0), (0, 0), (2, 2), (1, 1)), mode="edge")
    for k in range(50):
        assert any(np.array_equal(padded[k, :, i:i + 3, j:j + 3], crops[k]) for i in range(6) for j in range(4))
    assert T.RandomCrop(6, pad_if_needed=True)(tc.tensor(image)).shape == (1, 6, 6)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(5)(tc.tensor(image))


@pytest.mark.parametrize("size, antialias", [((14, 14), True), ((14, 14), False), ((56, 40), True), ((3, 5), True),
                                             ((224, 224), False)])
def test_resize_is_pytorchs_bilinear_interpolation(torch, size, antialias):
    """torchvision resizes tensors with F.interpolate(mode="bilinear", antialias=...)."""
    images = RNG.standard_normal((2, 3, 28, 28)) if size != (3, 5) else RNG.standard_normal((2, 3, 10, 7))
    theirs = torch.nn.functional.interpolate(torch.tensor(images), size=size, mode="bilinear", align_corners=False,
                                             antialias=antialias).numpy()
    np.testing.assert_allclose(T.Resize(size, antialias=antialias).batch(images), theirs, atol=1e-12)
    one = T.Resize(size, antialias=antialias)(tc.tensor(images[0]))
    np.testing.assert_allclose(one.numpy(), theirs[0], atol=1e-12)


def test_resize_of_the_shorter_side_keeps_the_aspect_ratio():
    assert T.Resize(14)(tc.zeros(1, 28, 56)).shape == (1, 14, 28)
    assert T.Resize(14, max_size=20)(tc.zeros(1, 28, 56)).shape == (1, 10, 20)
    with pytest.raises(ValueError, match="bilinear"):
        T.Resize(14, interpolation="nearest")


def test_make_grid_and_save_image_as_torchvision(tmp_path):
    from PIL import Image

    from tinygrad_cnn.data.utils import make_grid, save_image
    images = tc.tensor(np.arange(5 * 4 * 3, dtype=np.float32).reshape(5, 1, 4, 3))
    grid = make_grid(images, nrow=2, padding=1, pad_value=-1.0)
    assert grid.shape == (3, 3 * 5 + 1, 2 * 4 + 1) and grid.dtype == np.float32
    np.testing.assert_array_equal(grid.numpy()[0, 1:5, 5:8], images.numpy()[1, 0])  # row 0, column 1
    assert (grid.numpy()[:, 11:15, 5:8] == -1).all()  # the sixth cell is padding
    assert make_grid(tc.tensor(np.ones((2, 1, 2, 2), np.uint8)), padding=0).dtype == np.uint8  # dtype kept
    normalized = make_grid(images, normalize=True, padding=0).numpy()
    assert normalized.min() == 0 and normalized.max() == 1
    save_image(images / 59.0, tmp_path / "grid.png", nrow=5)
    assert Image.open(tmp_path / "grid.png").size == (5 * 5 + 2, 4 + 4)
