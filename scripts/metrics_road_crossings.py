"""Rule road_crossings: ecology network layers + road–corridor crossings → ecology.gpkg."""

import pyogrio

from agglonet.io import read_layer, read_raster, write_gpkg
from agglonet.logs import setup_logging
from agglonet.metrics.crossings import ecology_layers_with_crossings
from agglonet.outputs import layer_names

setup_logging(snakemake.log[0])

network_path = snakemake.input.network
present = set(pyogrio.list_layers(network_path)[:, 0])  # also holds non-spatial layer_styles
network = {name: read_layer(network_path, name) for name in layer_names("ecology_network")
           if name in present}
current, profile = read_raster(snakemake.input.current_density)
layers = ecology_layers_with_crossings(
    network,
    read_layer(snakemake.input.roads, "roads"),
    current_density=current,
    transform=profile["transform"],
    road_classes=snakemake.params.road_classes,
    class_weights=snakemake.params.class_weights,
)
# carry the network's provenance (stored on each of its layers) over to ecology.gpkg
first = next(iter(network))
metadata = pyogrio.read_info(network_path, layer=first).get("layer_metadata") or {}
write_gpkg(snakemake.output.ecology, layers, metadata=metadata)
