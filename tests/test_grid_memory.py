"""agglonet.grid's memory estimate: sizes computed by hand, the refusal names the key to change."""

from __future__ import annotations

import numpy as np
import pytest

from agglonet.errors import ConfigError
from agglonet.grid import MEMORY_LIMIT_ENV, array_mb, available_memory_mb, check_memory


def test_array_mb_is_cells_times_item_size() -> None:
    # 3 × 4 × 5 = 60 cells; float32 4 bytes, int64 8 bytes
    assert array_mb((3, 4, 5), np.float32) == pytest.approx(60 * 4 / 1e6)
    assert array_mb((1000, 2000), "int64", count=3) == pytest.approx(48.0)


def test_check_memory_returns_the_estimate_when_it_fits() -> None:
    # 1,000 × 2,000 cells × 40 bytes = 80 MB
    assert check_memory((1000, 2000), bytes_per_cell=40, what="test",
                        available_mb=81) == pytest.approx(80.0)


def test_check_memory_refuses_and_names_the_resolution_key() -> None:
    # 8,000 × 10,000 cells × 50 bytes = 4,000 MB against 1,000 MB: √4 = 2 × coarser
    with pytest.raises(ConfigError) as info:
        check_memory((8000, 10000), bytes_per_cell=50, what="corridors: cost surfaces",
                      resolution_m=250.0, available_mb=1000)
    text = str(info.value)
    assert "retrieve.resolution_m of at least 500 m" in text
    assert "corridors: cost surfaces" in text
    assert "80,000,000 cells" in text and "4,000 MB" in text
    assert info.value.fix == "raise retrieve.resolution_m of at least 500 m"


def test_available_memory_follows_the_environment_cap(monkeypatch) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "123")
    assert available_memory_mb() <= 123.0
    with pytest.raises(ConfigError, match="8,000,000 cells"):
        check_memory((2000, 4000), bytes_per_cell=16, what="test")   # 128 MB > 123 MB
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ConfigError, match="expected a number of MB"):
        available_memory_mb()


def test_grid_stages_refuse_before_allocating(monkeypatch) -> None:
    """Corridors, travel-time surface and resistance check their arrays first (limit 0.1 MB;
    a 100 × 100 grid needs 0.26, 0.36 and 0.48 MB)."""
    import geopandas as gpd
    from affine import Affine
    from shapely.geometry import Point

    from agglonet.ecology.corridors import build_corridors
    from agglonet.ecology.resistance import resistance_surface
    from agglonet.transport.surface import travel_time_from

    transform = Affine(250.0, 0, 0, 0, -250.0, 25_000)
    labels = np.zeros((100, 100), dtype=int)
    labels[5, 5], labels[90, 90] = 1, 2
    seats = gpd.GeoDataFrame(geometry=[Point(1000, 20_000)], crs="EPSG:3857")
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "0.1")
    for call in (
        lambda: build_corridors(np.ones((100, 100)), labels, transform=transform,
                                crs="EPSG:3857", width_cost_units=1000),
        lambda: travel_time_from(np.full((100, 100), 5.0), seats, transform=transform,
                                 crs="EPSG:3857"),
        lambda: resistance_surface(np.ones((100, 100), dtype=np.uint8), class_values={},
                                   transform=transform, crs="EPSG:3857"),
    ):
        with pytest.raises(ConfigError, match=r"retrieve\.resolution_m of at least \d+ m"):
            call()
    monkeypatch.delenv(MEMORY_LIMIT_ENV)
    assert np.isfinite(travel_time_from(np.full((100, 100), 5.0), seats, transform=transform,
                                        crs="EPSG:3857")).all()
