"""Load and validate the workflow configuration against ``config/schema.yaml``."""

from __future__ import annotations

import copy
import difflib
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from agglonet.errors import ConfigError

_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCHEMA = _ROOT / "config" / "schema.yaml"
DEFAULT_CONFIG = _ROOT / "config" / "config.yaml"


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file (UTF-8)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _path(error: jsonschema.ValidationError) -> str:
    parts = ["config"]
    for item in error.absolute_path:
        parts.append(f"[{item}]" if isinstance(item, int) else f".{item}")
    return "".join(parts).replace(".[", "[")


def _allowed_keys(schema: Mapping[str, Any]) -> list[str]:
    return sorted(schema.get("properties", {}))


def _describe(error: jsonschema.ValidationError) -> str:
    where = _path(error)
    if error.validator == "additionalProperties" and error.validator_value is False:
        allowed = _allowed_keys(error.schema)
        unexpected = sorted(set(error.instance) - set(allowed))
        lines = []
        for key in unexpected:
            close = difflib.get_close_matches(str(key), allowed, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            lines.append(
                f"{where}.{key}: unknown key{hint} (allowed keys at {where}: {', '.join(allowed)})"
            )
        return "\n".join(lines)
    if error.validator == "enum":
        return (
            f"{where}: {error.instance!r} is not one of "
            f"{', '.join(repr(v) for v in error.validator_value)}"
        )
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where}: {error.instance!r} has the wrong type; expected {expected}"
    if error.validator == "oneOf" and error.context:
        expected = error.schema.get("description")
        branches = [b.get("description") for b in error.validator_value]
        if expected or all(branches):
            expected = expected or "; or ".join(branches)
            return f"{where}: {error.instance!r} is not valid; expected {expected}"
        best = jsonschema.exceptions.best_match(error.context)
        return f"{where}: {error.instance!r} is not valid: {best.message}"
    return f"{where}: {error.message}"


def config_errors(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Return one readable message per schema violation, sorted by key path."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config),
                    key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(e) for e in errors]


def validate_config(
    config: Mapping[str, Any], schema: Mapping[str, Any] | str | Path = DEFAULT_SCHEMA
) -> Mapping[str, Any]:
    """Validate ``config`` against the JSON schema and return it unchanged.

    Parameters
    ----------
    config
        The merged workflow configuration (Snakemake's ``config``).
    schema
        The schema itself, or the path of a YAML/JSON schema file.

    Raises
    ------
    ConfigError
        Listing every violation with its key path (``config.roads.speeds_kph.motorway``) and
        what was expected.

    Examples
    --------
    >>> validate_config({"clusters": 3}, schema={"type": "object",
    ...     "properties": {"clusters": {"type": "array"}}})
    Traceback (most recent call last):
    ...
    agglonet.errors.ConfigError: invalid configuration:
      - config.clusters: 3 has the wrong type; expected array
    """
    schema_map: Mapping[str, Any] = schema if isinstance(schema, Mapping) else load_yaml(schema)
    problems = config_errors(config, schema_map)
    if problems:
        body = "\n".join(f"  - {line}" for p in problems for line in p.splitlines())
        raise ConfigError(f"invalid configuration:\n{body}")
    return config


@functools.cache
def _default_config_cached(path: str, mtime_ns: int) -> dict[str, Any]:
    return load_yaml(path)


def default(*keys: str) -> Any:
    """Return a default from ``config/config.yaml``, the one place defaults are written.

    Library functions that take a configurable setting (road speeds, highway classes, the
    GeoNames extract ...) fall back to this when the caller passes ``None``, so a default is
    never written twice.

    Parameters
    ----------
    *keys
        Path into the config (``"roads", "speeds_kph"``).

    Returns
    -------
    object
        A deep copy of the value.

    Raises
    ------
    ConfigError
        If the path does not exist in the default config.
    """
    node: Any = _default_config_cached(str(DEFAULT_CONFIG), DEFAULT_CONFIG.stat().st_mtime_ns)
    for i, key in enumerate(keys):
        if not isinstance(node, Mapping) or key not in node:
            raise ConfigError(f"no default for {'.'.join(keys[: i + 1])} in {DEFAULT_CONFIG}")
        node = node[key]
    return copy.deepcopy(node)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``; dicts merge recursively, others replace."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(
    *paths: str | Path, overrides: Mapping[str, Any] | None = None, validate: bool = True
) -> dict[str, Any]:
    """Load the default config, merge further config files and overrides, and validate.

    Parameters
    ----------
    *paths
        Extra YAML config files merged over ``config/config.yaml`` in order.
    overrides
        A mapping merged last (like Snakemake's ``--config``).
    validate
        Validate against ``config/schema.yaml`` (default).
    """
    config: dict[str, Any] = load_yaml(DEFAULT_CONFIG)
    for path in paths:
        config = deep_merge(config, load_yaml(path) or {})
    if overrides:
        config = deep_merge(config, overrides)
    if validate:
        validate_config(config)
    return config


def iter_pairs(mapping: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Yield ``(dotted.key, value)`` for every leaf of a nested mapping."""
    for key, value in mapping.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            yield from iter_pairs(value, name)
        else:
            yield name, value
