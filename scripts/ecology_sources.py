"""Rule ecological_sources: MSPA core patches (cut at necks and to a maximum area) ranked by dPC.

Writes the sources (polygons and raster) and the landscape indices.
"""

from agglonet.ecology.sources import cluster_geometry, select_sources
from agglonet.io import read_layer, read_raster, write_gpkg, write_json, write_raster
from agglonet.logs import setup_logging
from agglonet.retrieve.landmask import SEA

setup_logging(snakemake.log[0])

p = snakemake.params
codes, profile = read_raster(snakemake.input.mspa)
sea, _ = read_raster(snakemake.input.sea_mask)
cluster = cluster_geometry(read_layer(snakemake.input.boundaries, "cluster"), crs=profile["crs"])
selection = select_sources(codes, transform=profile["transform"], crs=profile["crs"],
                           sea=sea == SEA, cluster=cluster, connectivity=p.connectivity,
                           min_area_km2=p.min_area_km2, min_area_cells=p.min_area_cells,
                           neck_width_km=p.neck_width_km, max_area_km2=p.max_area_km2,
                           min_share_in_cluster=p.min_share_in_cluster,
                           distance_threshold_km=p.distance_threshold_km,
                           probability=p.probability, top_n=p.top_n, min_dpc=p.min_dpc)
write_gpkg(snakemake.output.sources, {"sources": selection.sources})
write_raster(snakemake.output.labels, selection.labels, transform=profile["transform"],
             crs=profile["crs"], nodata=None, band_description="ecological source id (0 = none)")
write_json(snakemake.output.indices,
           {**selection.indices, "n_sources": len(selection.sources)})
