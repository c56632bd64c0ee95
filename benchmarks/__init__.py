"""Side-by-side speed of augkit and its peers (torchvision v2, albumentations, kornia, timm).

``python benchmarks/run.py`` (or ``make bench``) runs every task module in
:mod:`benchmarks.tasks` on the bundled photos and prints images/s with the ratio augkit/peer;
peers that are not installed are left out (``pip install augkit[dev]`` installs them). The
suite times whichever ``augkit`` is importable; see README.md.
"""
