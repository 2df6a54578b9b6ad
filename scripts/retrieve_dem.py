"""Rule retrieve_dem: elevation (m) on the cluster grid."""

from agglonet.grid import cluster_grid
from agglonet.io import read_layer, write_raster
from agglonet.logs import setup_logging
from agglonet.provenance import metadata_for, write_records
from agglonet.retrieve.rasters import DEM_NODATA, dem_records, dem_to_grid

setup_logging(snakemake.log[0])

p = snakemake.params
cluster = read_layer(snakemake.input.boundaries, "cluster")
grid = cluster_grid(cluster.geometry.iloc[0], buffer_m=p.buffer_km * 1000,
                    resolution_m=p.resolution_m, crs=cluster.crs)
records = dem_records(p.source, p.path)
write_raster(snakemake.output.dem, dem_to_grid(grid, source=p.source, path=p.path),
             transform=grid.transform, crs=grid.crs, nodata=DEM_NODATA,
             tags={**metadata_for(records), "units": "m"}, band_description="elevation (m)",
             resampling="average")
write_records(snakemake.output.provenance, records)
