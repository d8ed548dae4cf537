"""gradlab.data.transforms against torchvision 0.28.0: the deterministic transforms, and the random ones with
their parameters fixed, give torchvision's images on the same input.

Tolerances: exact for pads, crops, flips, nearest resizing and warps, ToTensor and erasing; float32 rounding (1e-6)
for Normalize, bilinear resizing and bilinear warps; 1 grey level for bilinear resizing of uint8 images, where
torch uses fixed-point weights.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.data import transforms as T
from gradlab.data.transforms.affine import affine_batch, inverse_affine_matrix
from gradlab.tensor import Tensor
from tests.helpers import assert_close, import_torchvision

torch = pytest.importorskip("torch")
import_torchvision()
from torchvision.transforms import InterpolationMode  # noqa: E402
from torchvision.transforms import ToTensor as TVToTensor  # noqa: E402
from torchvision.transforms.v2 import functional as TF  # noqa: E402


def _images(dtype=np.float32, shape=(3, 3, 17, 13), seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.random(shape).astype(dtype)


def _t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (5, 7, 3)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_to_tensor_matches_torchvision(shape, dtype):
    x = _images(dtype, shape)
    out = T.ToTensor()(x)
    assert isinstance(out, Tensor) and out.dtype == np.float32
    assert_close(out, TVToTensor()(x), rtol=0, atol=0)
    batch = np.stack([x, x[::-1].copy()])
    assert_close(T.ToTensor().apply_batch(batch), np.stack([TVToTensor()(b).numpy() for b in batch]), rtol=0, atol=0)


@pytest.mark.parametrize("mean,std", [([0.5], [0.25]), ([0.1, 0.2, 0.3], [0.3, 0.2, 0.1])])
def test_normalize_matches_torchvision(mean, std):
    x = _images()
    assert_close(T.Normalize(mean, std)(x), TF.normalize(_t(x), mean, std), rtol=1e-6, atol=1e-6)
    assert_close(T.Normalize(mean, std).apply_batch(x), TF.normalize(_t(x), mean, std), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding", [2, (1, 3), (0, 1, 2, 3)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_pad_matches_torchvision(mode, padding, dtype):
    x = _images(dtype)
    fill = 7 if mode == "constant" else 0
    ref = TF.pad(_t(x), list(padding) if isinstance(padding, tuple) else padding, fill=fill, padding_mode=mode)
    out = T.Pad(padding, fill=fill, padding_mode=mode)(x)
    assert out.dtype == x.dtype
    assert_close(out, ref, rtol=0, atol=0)


def test_pad_per_channel_fill_matches_torchvision():
    x = _images()
    assert_close(T.Pad(2, fill=(0.1, 0.2, 0.3))(x), TF.pad(_t(x), 2, fill=[0.1, 0.2, 0.3]), rtol=0, atol=0)


@pytest.mark.parametrize("size", [(5, 5), (16, 12), (17, 13), (20, 16), (4, 14), 1])
def test_center_crop_matches_torchvision(size):
    x = _images()
    ref = TF.center_crop(_t(x), list(size) if isinstance(size, tuple) else [size])
    assert_close(T.CenterCrop(size)(x), ref, rtol=0, atol=0)


@pytest.mark.parametrize("size", [(34, 26), (8, 6), (17, 7), (5, 20), 9, 20])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_matches_torchvision(size, interpolation, antialias):
    x, xu = _images(), _images(np.uint8)
    mode = InterpolationMode(interpolation)
    tsize = list(size) if isinstance(size, tuple) else [size]
    t = T.Resize(size, interpolation=interpolation, antialias=antialias)
    assert_close(t(x), TF.resize(_t(x), tsize, interpolation=mode, antialias=antialias), rtol=1e-6, atol=1e-6)
    ref_u = TF.resize(_t(xu), tsize, interpolation=mode, antialias=antialias).numpy()
    out_u = t(xu)
    assert out_u.dtype == np.uint8 and out_u.shape == ref_u.shape
    assert np.abs(out_u.astype(int) - ref_u).max() <= (0 if interpolation == "nearest" else 1)


def test_resize_max_size_matches_torchvision():
    x = _images(shape=(1, 10, 40))
    ref = TF.resize(_t(x), [8], max_size=20)
    assert T.Resize(8, max_size=20)(x).shape == tuple(ref.shape)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_random_crop_with_fixed_offsets_matches_torchvision_crop(mode):
    x = _images(np.uint8)
    t = T.RandomCrop((15, 11), padding=3, padding_mode=mode)
    top, left = np.array([0, 4, 8]), np.array([6, 0, 3])
    out = t.apply_params(x, {"top": top, "left": left})
    padded = TF.pad(_t(x), 3, padding_mode=mode)
    for n in range(3):
        assert_close(out[n], TF.crop(padded[n], int(top[n]), int(left[n]), 15, 11), rtol=0, atol=0)


def test_flips_match_torchvision():
    x = _images()
    mask = np.array([True, False, True])
    h = T.RandomHorizontalFlip().apply_params(x, {"flip": mask})
    v = T.RandomVerticalFlip().apply_params(x, {"flip": mask})
    assert_close(h[mask], TF.horizontal_flip(_t(x[mask])), rtol=0, atol=0)
    assert_close(v[mask], TF.vertical_flip(_t(x[mask])), rtol=0, atol=0)
    assert_close(h[~mask], x[~mask], rtol=0, atol=0)


AFFINE_CASES = [  # angle, translate, scale, shear
    (30.0, (2, -1), 1.1, (0.0, 0.0)),
    (90.0, (0, 0), 1.0, (0.0, 0.0)),
    (-17.3, (3, 1), 0.8, (10.0, 0.0)),
    (5.0, (-4, 2), 1.3, (-20.0, 5.0)),
]


@pytest.mark.parametrize("angle,translate,scale,shear", AFFINE_CASES)
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_affine_matches_torchvision(angle, translate, scale, shear, interpolation, dtype):
    x = _images(dtype)
    fill = 0.25 if dtype == np.float32 else 9
    ref = TF.affine(_t(x), angle=angle, translate=list(translate), scale=scale, shear=list(shear),
                    interpolation=InterpolationMode(interpolation), fill=fill)
    matrix = inverse_affine_matrix([angle] * 3, [translate] * 3, [scale] * 3, [shear] * 3)
    out = affine_batch(x, matrix, interpolation, fill=fill)
    assert out.dtype == x.dtype
    tol = 1e-6 if dtype == np.float32 and interpolation == "bilinear" else 0
    assert_close(out, ref, rtol=0, atol=tol)
    # through RandomAffine with the same parameters
    t = T.RandomAffine(0, interpolation=interpolation, fill=fill)
    params = {"angle": np.full(3, angle), "translate": np.tile(translate, (3, 1)).astype(float),
              "scale": np.full(3, scale), "shear": np.tile(shear, (3, 1)).astype(float)}
    assert_close(t.apply_params(x, params), ref, rtol=0, atol=tol)


def test_random_erasing_with_fixed_box_matches_torchvision_erase():
    x = _images()
    t = T.RandomErasing(value=(0.5, 0.6, 0.7))
    params = {"top": np.array([1, 0, 5]), "left": np.array([2, 3, 0]), "height": np.array([4, 0, 12]),
              "width": np.array([5, 0, 3])}
    out = t.apply_params(x, params)
    v = torch.tensor([0.5, 0.6, 0.7])[:, None, None]
    for n in range(3):
        h, w = int(params["height"][n]), int(params["width"][n])
        ref = TF.erase(_t(x[n]), int(params["top"][n]), int(params["left"][n]), h, w, v) if h else _t(x[n])
        assert_close(out[n], ref, rtol=0, atol=0)


def test_random_erasing_box_distribution_close_to_torchvision():
    """The erased area and aspect ratio follow torchvision's sampling: compare the mean box size over many draws."""
    from torchvision.transforms import v2

    torch.manual_seed(0)
    tv = v2.RandomErasing(p=1.0)
    img = torch.zeros(1, 32, 32)
    tv_h = np.array([tv.make_params([img])["h"] for _ in range(3000)], dtype=float)
    ours = T.RandomErasing(p=1.0).sample(3000, (1, 32, 32), np.random.default_rng(0))
    assert abs(ours["height"].mean() - tv_h.mean()) < 0.5
    assert abs(ours["height"].std() - tv_h.std()) < 0.5


def test_gaussian_noise_clips_like_torchvision():
    x = _images()
    zero = T.GaussianNoise(sigma=0.0).apply_params(x[None] * 3 - 1, {"noise": np.zeros((1, *x.shape), np.float32)})
    ref = TF.gaussian_noise(_t(x * 3 - 1), mean=0.0, sigma=0.0, clip=True)
    assert_close(zero[0], ref, rtol=0, atol=0)


def test_compose_of_deterministic_transforms_matches_torchvision():
    x = _images(np.uint8, (20, 24, 3))
    ours = T.Compose([T.ToTensor(), T.Pad(2, padding_mode="reflect"), T.CenterCrop((18, 18)), T.Resize(9),
                      T.Normalize([0.5, 0.4, 0.3], [0.2, 0.2, 0.2])])
    ref = TF.normalize(TF.resize(TF.center_crop(TF.pad(TVToTensor()(x), 2, padding_mode="reflect"), [18, 18]), [9]),
                       [0.5, 0.4, 0.3], [0.2, 0.2, 0.2])
    assert_close(ours(x), ref, rtol=1e-5, atol=1e-5)
