"""The compiled grid Dijkstra, now on the shared ground: :mod:`agglonet.grid_dijkstra`.

Kept so that ``agglonet.ecology.grid_dijkstra`` imports keep working; new code imports
``agglonet.grid_dijkstra`` (the travel-time surface of the transport stage uses it too).
"""

from agglonet.grid_dijkstra import cost_distance, cost_distance_allocation

__all__ = ["cost_distance", "cost_distance_allocation"]
