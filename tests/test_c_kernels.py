"""The C kernels of augkit._native (colour jitter, mixing, nearest warps) give the same bits whichever loops the
CPU picks (native.h: one dispatch for both)."""

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
        from augkit.functional import affine, color_jitter
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
