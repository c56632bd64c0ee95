"""Side-by-side speed of augkit and its peers (torchvision v2, albumentations, kornia, timm).

``augkit bench`` (or ``make bench``) runs every task module in :mod:`augkit.bench.tasks` on the
bundled photos and prints images/s with the ratio augkit/peer; peers that are not installed are
left out (``pip install augkit[dev]`` installs them).
"""
