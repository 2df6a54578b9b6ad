"""Rule build_road_network: road graph of one source → travel-time GraphML and roads.gpkg."""

from agglonet import download
from agglonet.io import read_layer, write_gpkg, write_json
from agglonet.logs import setup_logging
from agglonet.provenance import SourceRecord, write_records
from agglonet.transport.graph import save_road_graph
from agglonet.transport.layers import graph_to_layers, road_area, roads_metadata
from agglonet.transport.loaders import load_roads

setup_logging(snakemake.log[0])
download.configure(snakemake.params.download)

p = snakemake.params
cluster = read_layer(snakemake.input.boundaries, "cluster").to_crs(p.crs)
seats = read_layer(snakemake.input.seats, "seats")
G, report = load_roads(
    source=p.source,
    area=road_area(cluster, buffer_km=p.buffer_km),
    area_crs=cluster.crs,
    highway_classes=p.highway_classes,
    speeds_kph=p.speeds_kph,
    crs=p.crs,
    osm_options=p.osm_options,
    pbf_path=p.pbf_path,
    pbf_cache_dir=p.pbf_cache_dir,
    file_path=p.file_path,
    proxy_path=snakemake.input.get("proxy"),
    scgraph_speed_kph=p.scgraph_speed_kph,
    scgraph_cache_dir=p.scgraph_cache_dir,
    seats=seats,
    core_city=p.core_city,
    max_seat_distance_km=p.max_seat_distance_km,
    detour_ratio=p.detour_ratio,
)
save_road_graph(G, snakemake.output.graph)
roads, nodes = graph_to_layers(G)
write_gpkg(snakemake.output.roads, {"roads": roads, "road_nodes": nodes},
           metadata=roads_metadata(report))
write_json(snakemake.output.report, report)
write_records(snakemake.output.provenance, [SourceRecord(**report["provenance"])])
