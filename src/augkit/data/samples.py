"""Sample photos shipped with augkit (public domain / CC0, from scikit-image's data set).

``astronaut`` (512x512, NASA, public domain), ``coffee`` (600x400, CC0), ``chelsea`` (451x300,
CC0), ``rocket`` (640x427, SpaceX, public domain) are RGB JPEGs; ``camera`` (512x512, CC0) is a
grayscale PNG.
"""

from __future__ import annotations

from importlib import resources

import cv2
import numpy as np

__all__ = ["SAMPLE_IMAGES", "sample_image"]

SAMPLE_IMAGES = {
    "astronaut": "astronaut.jpg",
    "coffee": "coffee.jpg",
    "chelsea": "chelsea.jpg",
    "rocket": "rocket.jpg",
    "camera": "camera.png",
}


def sample_image(name: str = "astronaut") -> np.ndarray:
    """A bundled photo as an RGB (HWC) or grayscale (HW) uint8 array.

    >>> from augkit.data import sample_image
    >>> sample_image("chelsea").shape
    (300, 451, 3)
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"name must be one of {', '.join(SAMPLE_IMAGES)}; got {name!r}")
    data = resources.files("augkit").joinpath("assets", SAMPLE_IMAGES[name]).read_bytes()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image
