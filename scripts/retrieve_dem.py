"""Rule retrieve_dem: elevation (m) on the cluster grid."""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821

from agglonet.grid import cluster_grid  # noqa: E402
from agglonet.io import read_layer, write_raster  # noqa: E402
from agglonet.provenance import metadata_for, write_records  # noqa: E402
from agglonet.rasters import DEM_NODATA, dem_records, dem_to_grid  # noqa: E402

p = snakemake.params  # noqa: F821
cluster = read_layer(snakemake.input.boundaries, "cluster")  # noqa: F821
grid = cluster_grid(cluster.geometry.iloc[0], buffer_m=p.buffer_km * 1000,
                    resolution_m=p.resolution_m, crs=cluster.crs)
records = dem_records(p.source, p.path)
write_raster(snakemake.output.dem, dem_to_grid(grid, source=p.source, path=p.path),  # noqa: F821
             transform=grid.transform, crs=grid.crs, nodata=DEM_NODATA,
             tags={**metadata_for(records), "units": "m"}, band_description="elevation (m)",
             resampling="average")
write_records(snakemake.output.provenance, records)  # noqa: F821
