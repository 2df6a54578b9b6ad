"""Ecological network stage of agglonet.

Modules
-------
landcover
    Common land-cover classes, class-mapping presets and the ESA WorldCover retriever.
mspa
    Morphological Spatial Pattern Analysis (GuidosToolbox class codes).
connectivity
    Patch connectivity indices: IIC, PC, dIIC, dPC (intra/flux/connector), ECA.
sources
    Core patches -> ecological sources (polygons + labelled raster).
resistance
    Resistance surface from land cover, slope and road penalties.
summary
    ``ecology_summary.json``.
corridors, circuit, barriers
    Least-cost corridors, circuit theory, pinch points and barriers (helper D).
"""
