"""Rule retrieve_landcover: source land-cover codes on the cluster grid."""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821

from agglonet.grid import cluster_grid  # noqa: E402
from agglonet.io import read_layer, write_raster  # noqa: E402
from agglonet.provenance import metadata_for, write_records  # noqa: E402
from agglonet.rasters import LANDCOVER_NODATA, retrieve_landcover  # noqa: E402

p = snakemake.params  # noqa: F821
cluster = read_layer(snakemake.input.boundaries, "cluster")  # noqa: F821
grid = cluster_grid(cluster.geometry.iloc[0], buffer_m=p.buffer_km * 1000,
                    resolution_m=p.resolution_m, crs=cluster.crs)
codes, tags, records = retrieve_landcover(grid, source=p.source, path=p.path,
                                          classification=p.classification,
                                          url_template=p.url_template, cache_dir=p.cache_dir)
write_raster(snakemake.output.landcover, codes, transform=grid.transform,  # noqa: F821
             crs=grid.crs, nodata=LANDCOVER_NODATA, tags={**metadata_for(records), **tags},
             band_description="land-cover class code", resampling="nearest")
write_records(snakemake.output.provenance, records)  # noqa: F821
