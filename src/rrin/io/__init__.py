"""Reading and writing images, videos and files safely."""

from .atomic import atomic_path, check_writable
from .images import read_image, write_image

__all__ = ["atomic_path", "check_writable", "read_image", "write_image"]
