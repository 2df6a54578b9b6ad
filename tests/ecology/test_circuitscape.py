"""Circuitscape-compatible raster mode against an independent dense solve written here.

The reference below builds the node graph cell by cell in plain Python (union-find for merged
regions, an explicit neighbour loop, Circuitscape's edge formulas), solves the dense Laplacian
with numpy and computes node currents as max(inflow, outflow) by looping over edges.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from agglonet.ecology.circuitscape import (
    CircuitscapeResult,
    FocalNodes,
    GridHeader,
    MapRequest,
    SolverSettings,
    cell_conductance,
    circuitscape_one_to_all,
    circuitscape_pairwise,
    julia_float,
    read_grid,
    read_ini,
    read_pair_selection,
    run_ini,
    write_ascii_grid,
)
from agglonet.errors import ConfigError, DataError

DIRECT = SolverSettings(solver="direct")


# ---------------------------------------------------------------- independent dense reference


class Dense:
    """Dense circuit of a grid: cells with g > 0 are nodes, ``merged`` cell sets are one node."""

    def __init__(self, g, *, merged=(), four=False, avg_res=False):
        self.g = np.asarray(g, dtype=float)
        h, w = self.g.shape
        parent = {}

        def find(c):
            while parent[c] != c:
                c = parent[c]
            return c

        cells = [(i, j) for i in range(h) for j in range(w)]
        for c in cells:
            parent[c] = c
        usable = {c for c in cells if self.g[c] > 0}
        for group in merged:
            group = [tuple(c) for c in group]
            if not any(self.g[c] > 0 for c in group):
                continue
            usable.update(group)
            for c in group[1:]:
                parent[find(c)] = find(group[0])
        roots = sorted({find(c) for c in usable})
        self.index = {r: k for k, r in enumerate(roots)}
        self.node = {c: self.index[find(c)] for c in usable}
        n = len(roots)
        self.lap = np.zeros((n, n))
        self.edges = []
        steps = [(0, 1), (1, 0)] if four else [(0, 1), (1, 0), (1, 1), (1, -1)]
        for (i, j) in sorted(usable):
            for di, dj in steps:
                y, x = i + di, j + dj
                if (y, x) not in usable:
                    continue
                a, b = self.node[(i, j)], self.node[(y, x)]
                if a == b:
                    continue
                ga, gb = self.g[i, j], self.g[y, x]
                if avg_res:
                    ge = 0.0 if ga == 0 or gb == 0 else 1.0 / ((1 / ga + 1 / gb) / 2)
                else:
                    ge = (ga + gb) / 2
                if di and dj:
                    ge /= math.sqrt(2)
                if ge == 0:
                    continue
                self.edges.append((a, b, ge))
                self.lap[a, a] += ge
                self.lap[b, b] += ge
                self.lap[a, b] -= ge
                self.lap[b, a] -= ge
        self.pinv = np.linalg.pinv(self.lap)

    def connected(self, a, b):
        # connected iff the effective resistance is finite: check by a BFS
        seen, todo = {a}, [a]
        adj = {}
        for u, v, _ in self.edges:
            adj.setdefault(u, set()).add(v)
            adj.setdefault(v, set()).add(u)
        while todo:
            u = todo.pop()
            for v in adj.get(u, ()):
                if v not in seen:
                    seen.add(v)
                    todo.append(v)
        return b in seen, seen

    def voltages(self, injections, grounds):
        """Solve with the ``grounds`` nodes at 0 V and node ``injections`` (A)."""
        n = self.lap.shape[0]
        free = [k for k in range(n) if k not in grounds]
        rhs = np.zeros(n)
        for k, amps in injections.items():
            rhs[k] += amps
        v = np.zeros(n)
        v[free] = np.linalg.solve(self.lap[np.ix_(free, free)], rhs[free])
        return v

    def resistance(self, a, b):
        ok, _ = self.connected(a, b)
        if not ok:
            return -1.0
        d = np.zeros(self.lap.shape[0])
        d[a], d[b] = 1, -1
        # restrict to a's component so that the pseudo-inverse sees a connected graph
        _, comp = self.connected(a, a)
        idx = sorted(comp)
        sub = self.lap[np.ix_(idx, idx)]
        dd = d[idx]
        return float(dd @ np.linalg.pinv(sub) @ dd)

    def node_currents(self, v):
        n = self.lap.shape[0]
        inflow, outflow = np.zeros(n), np.zeros(n)
        for a, b, ge in self.edges:
            c = ge * (v[a] - v[b])
            if c > 0:
                outflow[a] += c
                inflow[b] += c
            else:
                inflow[a] -= c
                outflow[b] -= c
        return np.maximum(inflow, outflow)

    def spread(self, node_values, nodes):
        out = np.zeros(self.g.shape)
        for c, k in self.node.items():
            if k in nodes:
                out[c] = node_values[k]
        return out


def grid(seed=3, shape=(7, 8)):
    rng = np.random.default_rng(seed)
    r = 1 + 9 * rng.random(shape)
    r[3, 2:6] = np.nan
    return r


def points(*entries, shape=(7, 8)):
    lab = np.zeros(shape)
    for pid, i, j in entries:
        lab[i, j] = pid
    return lab


def matrix_of(result: CircuitscapeResult) -> dict:
    t = result.resistances
    ids = t[0, 1:].astype(int)
    return {(a, b): t[i + 1, j + 1] for i, a in enumerate(ids) for j, b in enumerate(ids)}


# ------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("four", [False, True])
@pytest.mark.parametrize("avg_res", [False, True])
@pytest.mark.parametrize("is_res", [True, False])
def test_pairwise_resistances_match_dense_for_every_connection_scheme(four, avg_res, is_res):
    values = grid()
    g = cell_conductance(values, is_resistance=is_res)
    lab = points((1, 0, 0), (2, 6, 7), (3, 0, 7), (5, 6, 0))
    result = circuitscape_pairwise(g, FocalNodes.from_raster(lab), four_neighbors=four,
                                   avg_resistances=avg_res, settings=DIRECT)
    dense = Dense(g, four=four, avg_res=avg_res)
    cell = {1: (0, 0), 2: (6, 7), 3: (0, 7), 5: (6, 0)}
    got = matrix_of(result)
    assert list(result.resistances[0]) == [0, 1, 2, 3, 5]      # Circuitscape layout
    for a in cell:
        assert got[(a, a)] == 0
        for b in cell:
            if a < b:
                expected = dense.resistance(dense.node[cell[a]], dense.node[cell[b]])
                assert got[(a, b)] == pytest.approx(expected, rel=1e-9)
                assert got[(b, a)] == got[(a, b)]


def test_average_conductance_and_resistance_differ_by_their_formulas():
    # two cells in a row: R = 1/g_ab with g_ab = (Ga+Gb)/2 or 1/((Ra+Rb)/2)
    r = np.array([[2.0, 8.0]])
    g = cell_conductance(r)
    lab = np.array([[1, 2]])
    cond = circuitscape_pairwise(g, FocalNodes.from_raster(lab), settings=DIRECT)
    res = circuitscape_pairwise(g, FocalNodes.from_raster(lab), avg_resistances=True,
                                settings=DIRECT)
    assert cond.resistances[1, 2] == pytest.approx(1 / ((1 / 2 + 1 / 8) / 2))   # 3.2
    assert res.resistances[1, 2] == pytest.approx((2 + 8) / 2)                  # 5.0


def test_disconnected_pairs_nodata_points_negative_ids_and_shared_cells():
    r = grid()
    r[:, 4] = np.nan                                   # cuts the grid in two
    g = cell_conductance(r)
    lab = points((1, 0, 0), (2, 6, 1), (3, 0, 7), (4, 3, 3))
    lab[5, 5] = -2                                     # negative id: ignored
    focal = FocalNodes.from_raster(lab)
    # id 7 shares id 1's cell; 4 sits on nodata (row 3 cols 2..5)
    result = circuitscape_pairwise(g, FocalNodes.from_cells(
        np.r_[focal.ids, 7], np.r_[focal.rows, 0], np.r_[focal.cols, 0]), settings=DIRECT)
    got = matrix_of(result)
    assert list(result.resistances[0, 1:]) == [1, 2, 3, 4, 7]
    assert got[(1, 3)] == -1 and got[(2, 3)] == -1      # other side of the cut
    assert all(got[(4, k)] == -1 for k in (1, 2, 3, 7))  # point on nodata
    assert got[(1, 7)] == 0                             # shared cell: one node
    assert got[(2, 7)] == got[(1, 2)] > 0
    dense = Dense(g)
    assert got[(1, 2)] == pytest.approx(dense.resistance(dense.node[(0, 0)],
                                                         dense.node[(6, 1)]), rel=1e-9)


def test_pairwise_maps_follow_circuitscape_conventions():
    r = grid()
    g = cell_conductance(r)
    lab = points((1, 0, 0), (2, 6, 7), (3, 0, 7))
    seen = {}

    def keep(name, volt, cur):
        seen[name] = (volt, cur)

    result = circuitscape_pairwise(g, FocalNodes.from_raster(lab),
                                   maps=MapRequest(current=True, voltage=True),
                                   on_solve=keep, settings=DIRECT)
    assert sorted(seen) == ["_1_2", "_1_3", "_2_3"]
    dense = Dense(g)
    n1, n2 = dense.node[(0, 0)], dense.node[(6, 7)]
    # 1 A enters at the second id and leaves at the first; voltages referenced to the first
    v = dense.voltages({n2: 1.0}, grounds={n1})
    volt, cur = seen["_1_2"]
    np.testing.assert_allclose(volt, np.where(g > 0, dense.spread(v, set(range(len(v)))), 0),
                               rtol=1e-9, atol=1e-12)
    assert volt[0, 0] == 0 and volt[6, 7] == pytest.approx(result.resistances[1, 2])
    expected_cur = dense.spread(dense.node_currents(v), set(range(len(v))))
    np.testing.assert_allclose(cur, expected_cur, rtol=1e-7, atol=1e-9)
    # the focal nodes show the injected current: max(in, out) = 1 A
    assert cur[0, 0] == pytest.approx(1.0) and cur[6, 7] == pytest.approx(1.0)
    assert np.all(cur[~(g > 0)] == 0)
    total = sum(c for _, c in seen.values())
    np.testing.assert_allclose(result.cumulative_current, total)


def test_short_circuit_regions_and_focal_regions():
    r = grid(seed=8)
    r[5, 2] = np.nan                     # a nodata cell inside the short-circuit region
    g = cell_conductance(r)
    polygons = np.zeros(r.shape, dtype=int)
    polygons[5, 1:4] = 9                 # short-circuit region, merged in every solve
    lab = np.zeros(r.shape)
    lab[0, 0:2] = 1                      # focal region 1 (two cells)
    lab[6, 6:8] = 2                      # focal region 2
    lab[0, 6:8] = 3                      # focal region 3
    lab[1, 7] = 3
    focal = FocalNodes.from_raster(lab)
    seen = {}
    result = circuitscape_pairwise(g, focal, polygons=polygons,
                                   maps=MapRequest(current=True),
                                   on_solve=lambda n, v, c: seen.__setitem__(n, c),
                                   settings=DIRECT)
    poly = [(5, 1), (5, 2), (5, 3)]
    reg = {1: [(0, 0), (0, 1)], 2: [(6, 6), (6, 7)], 3: [(0, 6), (0, 7), (1, 7)]}
    got = matrix_of(result)
    for a, b in ((1, 2), (1, 3), (2, 3)):
        # only the pair's own regions are merged; the third region stays plain cells
        dense = Dense(g, merged=[poly, reg[a], reg[b]])
        na, nb = dense.node[reg[a][0]], dense.node[reg[b][0]]
        assert got[(a, b)] == pytest.approx(dense.resistance(na, nb), rel=1e-9)
        v = dense.voltages({nb: 1.0}, grounds={na})
        expected = dense.spread(dense.node_currents(v), set(range(len(v))))
        np.testing.assert_allclose(seen[f"_{a}_{b}"], expected, rtol=1e-7, atol=1e-9)
    cur = seen["_1_2"]
    # every cell of a region shows its node's current, the nodata cell of the short-circuit
    # region too; the focal regions carry the injected 1 A
    assert cur[5, 2] == cur[5, 1] == cur[5, 3] > 0
    assert cur[0, 0] == cur[0, 1] == pytest.approx(1.0)


def test_pair_selection_include_exclude_and_matrix(tmp_path):
    g = cell_conductance(grid())
    lab = points((1, 0, 0), (2, 6, 7), (3, 0, 7), (4, 6, 0))
    focal = FocalNodes.from_raster(lab)
    inc = tmp_path / "inc.txt"
    inc.write_text("mode\tinclude\n1\t2\n3\t1\n")
    sel = read_pair_selection(inc)
    got = matrix_of(circuitscape_pairwise(g, focal, selection=sel, settings=DIRECT))
    # id 4 is not named: dropped; (2, 3) not included: -1
    assert sorted({a for a, _ in got}) == [1, 2, 3]
    assert got[(1, 2)] > 0 and got[(1, 3)] > 0 and got[(2, 3)] == -1
    exc = tmp_path / "exc.txt"
    exc.write_text("mode exclude\n1 2\n1 3\n2 3\n2 4\n")
    got = matrix_of(circuitscape_pairwise(g, focal, selection=read_pair_selection(exc),
                                          settings=DIRECT))
    assert [k for k, v in got.items() if v > 0 and k[0] < k[1]] == [(1, 4), (3, 4)]
    mat = tmp_path / "matrix.txt"
    # min 2, max 50: 100 > max -> 0 -> excluded; 1 < min -> excluded; 6.67 and 7 included
    mat.write_text("min 2\nmax 50\n0 1 2 3 5\n1 0 100 6.67 1\n2 100 0 11 60\n"
                   "3 6.67 11 0 1\n5 1 60 1 0\n")
    sel = read_pair_selection(mat)
    assert sel.mode == "include" and sel.point_ids == frozenset({1, 2, 3, 5})
    assert sel.pairs == frozenset({(1, 3), (2, 3)})
    zero_min = tmp_path / "matrix0.txt"
    zero_min.write_text("min 0\nmax 50\n0 1 2\n1 0 100\n2 100 0\n")
    assert read_pair_selection(zero_min).pairs == frozenset({(1, 2)})   # Circuitscape quirk


def test_one_to_all_and_all_to_one_match_dense():
    r = grid(seed=4)
    r[:, 5] = np.nan
    g = cell_conductance(r)
    cells = {1: (0, 0), 2: (6, 1), 3: (4, 3), 4: (0, 7)}     # 4 is alone behind the cut
    lab = points(*[(k, *c) for k, c in cells.items()])
    focal = FocalNodes.from_raster(lab)
    seen = {}
    o2a = circuitscape_one_to_all(g, focal, strengths={2: 2.5},
                                  maps=MapRequest(current=True, voltage=True),
                                  on_solve=lambda n, v, c: seen.__setitem__(n, (v, c)),
                                  settings=DIRECT)
    dense = Dense(g)
    node = {k: dense.node[c] for k, c in cells.items()}
    for k in (1, 2, 3):
        others = {node[m] for m in (1, 2, 3) if m != k}
        s = 2.5 if k == 2 else 1.0
        v = dense.voltages({node[k]: s}, grounds=others)
        row = list(o2a.resistances[:, 0]).index(k)
        assert o2a.resistances[row, 1] == pytest.approx(v[node[k]] / s, rel=1e-9)
        _, comp = dense.connected(node[k], node[k])
        np.testing.assert_allclose(seen[f"_{k}"][0], dense.spread(v, comp), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(seen[f"_{k}"][1],
                                   dense.spread(dense.node_currents(v), comp), rtol=1e-7,
                                   atol=1e-9)
    assert o2a.resistances[3].tolist() == [4, -1]          # no ground in its component
    a2o = circuitscape_one_to_all(g, focal, all_to_one=True, maps=MapRequest(current=True),
                                  settings=DIRECT)
    assert a2o.resistances[:, 1].tolist() == [0, 0, 0, -1]
    expected = np.zeros(g.shape)
    for k in (1, 2, 3):
        v = dense.voltages({node[m]: 1.0 for m in (1, 2, 3) if m != k}, grounds={node[k]})
        _, comp = dense.connected(node[k], node[k])
        expected += dense.spread(dense.node_currents(v), comp)
    np.testing.assert_allclose(a2o.cumulative_current, expected, rtol=1e-7, atol=1e-9)
    assert a2o.cumulative_current[0, 0] >= 2.0   # ground of its own solve draws 2 A


def test_amg_agrees_with_direct_at_circuitscape_tolerance():
    rng = np.random.default_rng(2)
    r = np.exp(rng.normal(size=(40, 45)))
    r[10:30, 20] = np.nan
    g = cell_conductance(r)
    lab = points((1, 1, 1), (2, 38, 40), (3, 2, 42), (4, 35, 3), shape=r.shape)
    focal = FocalNodes.from_raster(lab)
    maps = MapRequest(current=True)
    amg = circuitscape_pairwise(g, focal, maps=maps, settings=SolverSettings(solver="amg"))
    direct = circuitscape_pairwise(g, focal, maps=maps, settings=DIRECT)
    np.testing.assert_allclose(amg.resistances, direct.resistances, rtol=1e-5)
    scale = direct.cumulative_current.max()
    assert np.abs(amg.cumulative_current - direct.cumulative_current).max() < 1e-5 * scale


def test_julia_float_format():
    assert [julia_float(x) for x in (1.0, 0.0001, 1e-5, 123456.0, 1234567.0, -9999.0, -1.0,
                                     0.25, 1e15, 2.5e-8, 0.0)] == [
        "1.0", "0.0001", "1.0e-5", "123456.0", "1.234567e6", "-9999.0", "-1.0", "0.25",
        "1.0e15", "2.5e-8", "0.0"]


def _write_asc(path, data, nodata=-9999):
    h, w = data.shape
    rows = "\n".join("\t".join(str(nodata) if not np.isfinite(v) else repr(float(v))
                               for v in row) for row in data)
    path.write_text(f"ncols {w}\nnrows {h}\nxllcorner 100\nyllcorner 200\ncellsize 10\n"
                    f"NODATA_value {nodata}\n{rows}\n")


def test_ini_job_writes_circuitscape_files(tmp_path, monkeypatch):
    r = grid()
    _write_asc(tmp_path / "res.asc", r)
    # text list: id x y (cell centres); id 2 at row 6 col 7, id 1 at row 0 col 0
    (tmp_path / "pts.txt").write_text("1 105 265\n2 175 205\n3 175 265\n-4 135 235\n")
    (tmp_path / "job.ini").write_text(
        "[Circuitscape mode]\ndata_type = raster\nscenario = pairwise\n"
        "[Habitat raster or graph]\nhabitat_file = res.asc\nhabitat_map_is_resistances = True\n"
        "[Options for pairwise and one-to-all and all-to-one modes]\npoint_file = pts.txt\n"
        "use_included_pairs = False\nincluded_pairs_file = (Browse for a file)\n"
        "[Output options]\noutput_file = out/run.out\nwrite_cur_maps = True\n"
        "write_volt_maps = True\nlog_transform_maps = False\nset_null_currents_to_nodata = True\n"
        "[Calculation options]\nsolver = cholmod\nprint_timings = False\n"
        "[Version]\nversion = 5.0.0\n")
    monkeypatch.chdir(tmp_path)
    result, files = run_ini("job.ini")
    names = sorted(p.name for p in files)
    assert names == ["run_cum_curmap.asc", "run_curmap_1_2.asc", "run_curmap_1_3.asc",
                     "run_curmap_2_3.asc", "run_resistances.out",
                     "run_resistances_3columns.out", "run_voltmap_1_2.asc",
                     "run_voltmap_1_3.asc", "run_voltmap_2_3.asc"]
    g = cell_conductance(r)
    dense = Dense(g)
    r12 = dense.resistance(dense.node[(0, 0)], dense.node[(6, 7)])
    lines = (tmp_path / "out/run_resistances.out").read_text().splitlines()
    assert lines[0] == "0.0 1.0 2.0 3.0"
    assert float(lines[1].split()[2]) == pytest.approx(r12, rel=1e-9)
    three = (tmp_path / "out/run_resistances_3columns.out").read_text().splitlines()
    assert [ln.split()[:2] for ln in three] == [["1.0", "2.0"], ["1.0", "3.0"], ["2.0", "3.0"]]
    text = (tmp_path / "out/run_curmap_1_2.asc").read_text().splitlines()
    assert text[:6] == ["ncols         8", "nrows         7", "xllcorner     100.0",
                        "yllcorner     200.0", "cellsize      10.0", "NODATA_value  -9999.0"]
    cur, header = read_grid(tmp_path / "out/run_curmap_1_2.asc")
    assert header == GridHeader(8, 7, 100.0, 200.0, 10.0, -9999.0)
    assert np.isnan(cur[3, 3]) and cur[0, 0] == pytest.approx(1.0)     # nodata, focal node
    cum, _ = read_grid(tmp_path / "out/run_cum_curmap.asc")
    np.testing.assert_allclose(np.nan_to_num(cum), np.round(result.cumulative_current, 8)
                               * (g > 0), atol=1e-8)


def test_ini_errors_name_the_key(tmp_path):
    base = "scenario = pairwise\nhabitat_file = a.asc\npoint_file = b.asc\noutput_file = o.out\n"
    bad = tmp_path / "bad.ini"
    bad.write_text(base + "write_cur_map = True\n")
    with pytest.raises(ConfigError, match="write_cur_map'.*did you mean write_cur_maps"):
        read_ini(bad)
    bad.write_text(base + "write_as_tif = True\n")
    with pytest.raises(ConfigError, match="write_as_tif"):
        read_ini(bad)
    bad.write_text(base + "use_polygons = yes\n")
    with pytest.raises(ConfigError, match="use_polygons"):
        read_ini(bad)
    bad.write_text(base.replace("pairwise", "advanced"))
    with pytest.raises(ConfigError, match="advanced"):
        read_ini(bad)
    job = read_ini_text(tmp_path, base + "connect_four_neighbors_only = True\n")
    assert job.flags["connect_four_neighbors_only"] and not job.flags["use_polygons"]
    assert job.paths["polygon_file"] is None


def read_ini_text(tmp_path, text):
    p = tmp_path / "ok.ini"
    p.write_text(text)
    return read_ini(p)


def test_ascii_grid_round_trip_and_errors(tmp_path):
    data = np.array([[1.0, np.nan], [0.5, 1e-5]])
    header = GridHeader(2, 2, 0.0, 0.0, 1.0)
    write_ascii_grid(tmp_path / "g.asc", np.nan_to_num(data, nan=-9999.0), header)
    back, h = read_grid(tmp_path / "g.asc")
    assert h == header
    np.testing.assert_array_equal(np.isnan(back), np.isnan(data))
    assert (tmp_path / "g.asc").read_text().splitlines()[7] == "0.5 1.0e-5"
    (tmp_path / "bad.asc").write_text("ncols 2\nnrows 3\nxllcorner 0\nyllcorner 0\n"
                                      "cellsize 1\n1 2\n3 4\n")
    with pytest.raises(DataError, match="header says 3x2"):
        read_grid(tmp_path / "bad.asc")
    with pytest.raises(DataError, match="resistance 0"):
        cell_conductance(np.array([[1.0, 0.0]]))


def test_cli_circuitscape_run(tmp_path, capsys):
    from agglonet.cli import main

    r = np.ones((3, 4))
    _write_asc(tmp_path / "res.asc", r)
    lab = np.full((3, 4), -9999.0)
    lab[0, 0], lab[2, 3] = 1, 2
    _write_asc(tmp_path / "pts.asc", lab)
    ini = tmp_path / "job.ini"
    ini.write_text(f"scenario = one-to-all\nhabitat_file = {tmp_path / 'res.asc'}\n"
                   f"point_file = {tmp_path / 'pts.asc'}\noutput_file = {tmp_path / 'o.out'}\n")
    assert main(["circuitscape", "run", str(ini)]) == 0
    lines = (tmp_path / "o_resistances.out").read_text().splitlines()
    assert [ln.split()[0] for ln in lines] == ["1.0", "2.0"]
    assert float(lines[0].split()[1]) == pytest.approx(float(lines[1].split()[1]))
    ini.write_text("scenario = pairwise\nhabitat_fil = x.asc\n")
    assert main(["circuitscape", "run", str(ini)]) == 2
    assert "habitat_fil" in capsys.readouterr().err
