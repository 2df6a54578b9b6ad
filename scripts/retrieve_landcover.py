"""Rule retrieve_landcover: source land-cover codes on the cluster grid."""

from agglonet import download
from agglonet.grid import cluster_grid
from agglonet.io import read_layer, write_raster
from agglonet.logs import setup_logging
from agglonet.provenance import metadata_for, write_records
from agglonet.retrieve.rasters import LANDCOVER_NODATA, retrieve_landcover

setup_logging(snakemake.log[0])
download.configure(snakemake.params.download)

p = snakemake.params
cluster = read_layer(snakemake.input.boundaries, "cluster")
grid = cluster_grid(cluster.geometry.iloc[0], buffer_m=p.buffer_km * 1000,
                    resolution_m=p.resolution_m, crs=cluster.crs)
codes, tags, records = retrieve_landcover(grid, source=p.source, path=p.path,
                                          classification=p.classification,
                                          url_template=p.url_template, cache_dir=p.cache_dir)
write_raster(snakemake.output.landcover, codes, transform=grid.transform,
             crs=grid.crs, nodata=LANDCOVER_NODATA, tags={**metadata_for(records), **tags},
             band_description="land-cover class code", resampling="nearest")
write_records(snakemake.output.provenance, records)
