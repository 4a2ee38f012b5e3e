"""Pillow, with the HEIC plugin registered (phones' photos) where it is installed.

Every module of objlen that opens photos with Pillow imports ``Image`` from
here, so that a HEIC photo opens everywhere. Importing Pillow and the plugin
takes about 40 ms: :mod:`objlen.imageio` does it only for a photo OpenCV
does not read itself, which spares a command that measures one JPEG or PNG
photo that time.
"""

from PIL import Image, ImageOps, UnidentifiedImageError

try:
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - the plugin is in requirements.txt
    pass
else:
    register_heif_opener()

__all__ = ["Image", "ImageOps", "UnidentifiedImageError"]
