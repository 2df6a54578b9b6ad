"""Benchmark: reading the scgraph-data world highway graph, agglonet's scanner vs importing it.

agglonet = :func:`agglonet.transport.scgraph.parse_world_highways` on
``scgraph_data/world_highways.py`` (found by path, never imported). The peer = what a user of
the package does: ``from scgraph_data.world_highways import world_highways_geograph`` (with a
stub ``scgraph.core.GeoGraph``: scgraph-data 2.0.0 imports it, and scgraph 3.x, which pip
installs with it, no longer has that module), then the same undirected link arrays built from its
``graph`` and ``nodes``. Each side runs in its own
child process, so the peak resident memory of each (``ru_maxrss``) is its own. Both must give
the same nodes and links (same coordinates, same link set, same lengths).

Two peer runs: with the ``.pyc`` pip compiled at install time (the usual case), and cold, with an
empty bytecode cache (Python compiles the 36 MB source). Run by hand:
``python benchmarks/scgraph_parse.py``. The last line is ``speedup_vs_import=<x>`` (the warm
import, the conservative figure).

Measured on the 2-core build machine: scanner 1.17 s, peak RSS 309 MB; import with .pyc 2.68 s,
371 MB (speedup 2.28); cold import 24.25 s, 4,695 MB (speedup 20.69). Same nodes (560,282) and
links (822,234).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

AGGLONET = """
import json, resource, sys, time
import numpy as np
from agglonet.transport.scgraph import parse_world_highways, world_highways_path
t = time.perf_counter()
net = parse_world_highways(world_highways_path())
seconds = time.perf_counter() - t
np.savez(sys.argv[1], lat=net.lat, lon=net.lon, u=net.u, v=net.v, km=net.length_km)
print(json.dumps({"seconds": seconds,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

IMPORT = """
import json, resource, sys, time, types
import numpy as np
# scgraph-data 2.0.0 imports scgraph.core.GeoGraph, which scgraph 3.x no longer has: a stub that
# only keeps the two literals stands in for it (the import cost is the module's own)
class GeoGraph:
    def __init__(self, graph, nodes):
        self.graph, self.nodes = graph, nodes
core = types.ModuleType("scgraph.core")
core.GeoGraph = GeoGraph
sys.modules.setdefault("scgraph", types.ModuleType("scgraph"))
sys.modules["scgraph.core"] = core
t = time.perf_counter()
from scgraph_data.world_highways import world_highways_geograph as g
links = {}
for a, nb in enumerate(g.graph):
    for b, km in nb.items():
        if a != b:
            key = (min(a, b), max(a, b))
            links[key] = min(km, links.get(key, km))
keys = sorted(links)
u = np.array([k[0] for k in keys], dtype=np.int32)
v = np.array([k[1] for k in keys], dtype=np.int32)
km = np.array([links[k] for k in keys])
nodes = np.array(g.nodes, dtype=float)
seconds = time.perf_counter() - t
np.savez(sys.argv[1], lat=nodes[:, 0], lon=nodes[:, 1], u=u, v=v, km=km)
print(json.dumps({"seconds": seconds,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, out: str, env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, out], check=True, capture_output=True,
                          text=True, env=None if env is None else {**os.environ, **env})
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    import tempfile
    from pathlib import Path

    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        ours_path, peer_path = str(Path(tmp) / "ours.npz"), str(Path(tmp) / "peer.npz")
        t0 = time.perf_counter()
        ours = run(AGGLONET, ours_path)
        peer = run(IMPORT, peer_path)
        # cold: an empty bytecode cache, so Python compiles the 36 MB source (what an install
        # without pip's precompiled .pyc, or a read-only site-packages, costs on every import)
        cold = run(IMPORT, peer_path, env={"PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")})
        print(f"agglonet scanner:        {ours['seconds']:.2f} s, peak RSS {ours['rss_mb']:.0f} MB")
        print(f"import (.pyc) + arrays:  {peer['seconds']:.2f} s, peak RSS {peer['rss_mb']:.0f} MB")
        print(f"import (cold) + arrays:  {cold['seconds']:.2f} s, peak RSS {cold['rss_mb']:.0f} MB")
        a, b = np.load(ours_path), np.load(peer_path)
        for key in ("lat", "lon", "u", "v", "km"):
            assert np.array_equal(a[key], b[key]), f"{key} differs"
        print(f"same nodes ({len(a['lat'])}) and links ({len(a['u'])}); "
              f"total {time.perf_counter() - t0:.0f} s")
    print(f"speedup_vs_cold_import={cold['seconds'] / ours['seconds']:.2f}")
    print(f"speedup_vs_import={peer['seconds'] / ours['seconds']:.2f}")


if __name__ == "__main__":
    main()
