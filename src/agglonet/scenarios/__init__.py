"""Scenarios ("what if"): planned roads, closed border gaps, restored land, before and after.

A scenario is a list of edits to one cluster's baseline (``config`` key ``scenarios``):

* :mod:`agglonet.scenarios.edits` parses and checks the edits and reads their geometry;
* :mod:`agglonet.scenarios.roads` applies the transport edits to the travel-time road graph;
* :mod:`agglonet.scenarios.landscape` applies the ecological edits to land cover and resistance;
* :mod:`agglonet.scenarios.diff` compares a scenario's tables and rasters with the baseline's.

The package sits above ``metrics`` and below ``export`` in the import order.
"""
