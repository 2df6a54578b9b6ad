"""Rule ecological_sources: MSPA core patches ranked by dPC → sources (polygons and raster)."""

from agglonet.ecology.sources import select_sources
from agglonet.io import read_raster, write_gpkg, write_json, write_raster
from agglonet.logs import setup_logging
from agglonet.retrieve.landmask import SEA

setup_logging(snakemake.log[0])

p = snakemake.params
codes, profile = read_raster(snakemake.input.mspa)
sea, _ = read_raster(snakemake.input.sea_mask)
selection = select_sources(codes, transform=profile["transform"], crs=profile["crs"],
                           sea=sea == SEA,
                           connectivity=p.connectivity, min_area_km2=p.min_area_km2,
                           distance_threshold_km=p.distance_threshold_km,
                           probability=p.probability, top_n=p.top_n, min_dpc=p.min_dpc)
write_gpkg(snakemake.output.sources, {"sources": selection.sources})
write_raster(snakemake.output.labels, selection.labels, transform=profile["transform"],
             crs=profile["crs"], nodata=None, band_description="ecological source id (0 = none)")
write_json(snakemake.output.indices,
           {**selection.indices, "n_sources": len(selection.sources)})
