"""Rule retrieve_boundaries: member-city, county and cluster polygons of one cluster."""

from agglonet.io import write_gpkg
from agglonet.logs import setup_logging
from agglonet.provenance import metadata_for, write_records
from agglonet.retrieve.boundaries import boundary_records, build_boundaries
from agglonet.retrieve.clusters import cluster_members, cluster_names

setup_logging(snakemake.log[0])

p, catalogue = snakemake.params, snakemake.input.catalogue
clusters_config = {"custom_clusters": p.custom_clusters}
name_en, name_zh = cluster_names(p.cluster, config=clusters_config, catalogue_path=catalogue)
members = cluster_members(p.cluster, config=clusters_config, catalogue_path=catalogue)
layers = build_boundaries(members, cluster=p.cluster, cluster_name_en=name_en,
                          cluster_name_zh=name_zh, source=p.source, crs=p.crs)
records = boundary_records(p.source)
write_gpkg(snakemake.output.boundaries, layers,
           metadata={**metadata_for(records), "cluster": p.cluster})
write_records(snakemake.output.provenance, records)
