"""Exception types: each names the bad value and what was expected."""


class AgglonetError(Exception):
    """Base class of every error agglonet raises on purpose.

    Parameters
    ----------
    *args
        The message (naming the bad value and what was expected).
    fix
        What the user should do, when the message alone does not say it; shown as the ``fix:``
        line of the block a failed rule prints (:func:`agglonet.logs.format_error`).
    """

    def __init__(self, *args: object, fix: str | None = None) -> None:
        super().__init__(*args)
        self.fix = fix


class ConfigError(AgglonetError, ValueError):
    """The configuration does not match config/schema.yaml."""


class UnknownCityError(AgglonetError, KeyError):
    """A member city name, adcode or alias matched no (or more than one) prefecture."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class EmptyNetworkError(AgglonetError, ValueError):
    """A road or ecological network is empty after filtering."""


class CRSError(AgglonetError, ValueError):
    """A layer has no CRS, or a CRS unsuitable for distances and areas."""


class DataError(AgglonetError, ValueError):
    """An input dataset is missing, empty, or not what was expected."""


class DownloadError(AgglonetError, OSError):
    """A download failed; the message names the URL."""
