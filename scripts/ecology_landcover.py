"""Rule landcover_classes: source land-cover codes → agglonet's common classes."""

import rasterio

from agglonet.ecology.landcover import (
    CLASS_CODES,
    NODATA,
    reclassify,
    resolve_mapping,
)
from agglonet.io import write_raster
from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])

with rasterio.open(snakemake.input.landcover) as src:
    codes, transform, crs, tags = src.read(1), src.transform, src.crs, src.tags()
mapping = resolve_mapping(snakemake.params.mapping,
                          classification=tags.get("classification"))
classes = reclassify(codes, mapping=mapping,
                     source_nodata=int(src.nodata) if src.nodata is not None else NODATA)
write_raster(snakemake.output.landcover, classes, transform=transform, crs=crs,
             nodata=NODATA, band_description="common land-cover class",
             tags={"class_codes": CLASS_CODES, "source_classification": tags.get("classification"),
                   "source": tags.get("source", ""), "licence": tags.get("licence", "")})
