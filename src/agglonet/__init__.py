"""agglonet: how well are the cities of a city cluster knit together, by roads and by nature."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("agglonet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
