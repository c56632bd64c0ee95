"""The C kernels of augkit._native (colour jitter, mixing, normalize, nearest warps) give the same bits whichever
loops the CPU picks (native.h: one dispatch for both)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import torch


def test_c_kernels_give_the_same_bits_on_every_cpu(tmp_path):
    """The AVX-512 / AVX2 variants picked on this CPU against the baseline x86-64 loops."""
    code = """if True:
        import sys, torch
        from augkit import _native
        from augkit.functional import affine, color_jitter, normalize
        from augkit.mixing import mix_images
        g = torch.Generator().manual_seed(0)
        x = torch.rand(6, 3, 37, 61, generator=g)
        factors = [torch.rand(6, generator=g) + 0.5 for _ in range(3)] + [torch.rand(6, generator=g) - 0.5]
        order = torch.stack([torch.randperm(4, generator=g) for _ in range(6)])
        index, weight = torch.tensor([1, 2, 0, 3, 5, 4]), torch.rand(6, generator=g)
        box = torch.tensor([[3, 20, 5, 40]] * 6)
        x8 = (x * 255).round().to(torch.uint8)
        results = [color_jitter(x, *factors, order=order), color_jitter(x8, *factors, order=order),
                   mix_images(x, index, weight), mix_images(x8, index, weight, box),
                   affine(x8, torch.tensor([[0.9, -0.3, 4.0], [0.2, 1.1, -3.0]]), "nearest", 0.2),
                   normalize(x, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)), normalize(x8, (0.5,), (0.25,)),
                   torch.from_numpy(color_jitter(x8[0].permute(1, 2, 0).contiguous().numpy(),
                                                 *(float(f[0]) for f in factors), order=order[0].tolist()))]
        for images in (x, x8):
            results += [mix_images(images.clone(), index, weight, inplace=True),
                        mix_images(images.clone(), index, box=box, inplace=True)]
        torch.save([_native.variant(), results], sys.argv[1])
    """
    runs = {}
    for name, env in (("best", {}), ("baseline", {"AUGKIT_BASELINE_KERNELS": "1"})):
        path = tmp_path / f"{name}.pt"
        subprocess.run([sys.executable, "-c", code, str(path)], check=True, env={**os.environ, **env})
        runs[name] = torch.load(path)
    assert runs["baseline"][0] == "baseline"
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.exists() and re.search(r"\bavx2\b", cpuinfo.read_text()):   # not a comparison of baseline with itself
        assert runs["best"][0] in ("avx2", "avx512")
    for best, baseline in zip(runs["best"][1], runs["baseline"][1]):
        assert torch.equal(best, baseline)


def _normalize_backend(name: str):
    from augkit.functional import convert

    return next(b for b in convert.normalize_tensor.row.backends if b.name == name)


def test_c_normalize_is_the_torch_kernel_bit_for_bit():
    """One pass with the torch kernel's two roundings: float32 and uint8, one and three channels,
    single images, batches, and a batch above the streaming size (native.h)."""
    g = torch.Generator().manual_seed(3)
    c, reference = _normalize_backend("c"), _normalize_backend("torch")
    cases = [((3, 37, 61), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)), ((5, 1, 9, 7), (0.5,), (0.25,)),
             ((2, 3, 5, 3), (0.1,), (2.0,)), ((9, 3, 500, 521), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))]
    for shape, mean, std in cases:
        x = torch.rand(shape, generator=g)
        for image in (x, (x * 255).round().to(torch.uint8)):
            assert c.accepts(image)
            out = c.fn(image, mean, std)
            assert out.dtype == torch.float32 and torch.equal(out, reference.fn(image, mean, std)), (shape, image.dtype)
