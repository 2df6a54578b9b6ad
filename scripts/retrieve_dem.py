"""Rule retrieve_dem: elevation (m) on the cluster grid, tagged with its native resolution."""

from agglonet import download
from agglonet.grid import cluster_grid
from agglonet.io import read_layer, write_raster
from agglonet.logs import setup_logging
from agglonet.provenance import metadata_for, write_records
from agglonet.retrieve.rasters import DEM_NODATA, retrieve_dem

setup_logging(snakemake.log[0])
download.configure(snakemake.params.download)

p = snakemake.params
cluster = read_layer(snakemake.input.boundaries, "cluster")
grid = cluster_grid(cluster.geometry.iloc[0], buffer_m=p.buffer_km * 1000,
                    resolution_m=p.resolution_m, crs=cluster.crs)
dem, tags, records = retrieve_dem(grid, source=p.source, path=p.path,
                                  url_template=p.url_template, cache_dir=p.cache_dir)
write_raster(snakemake.output.dem, dem, transform=grid.transform, crs=grid.crs,
             nodata=DEM_NODATA, tags={**metadata_for(records), **tags},
             band_description="elevation (m)", resampling="average")
write_records(snakemake.output.provenance, records)
