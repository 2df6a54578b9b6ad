"""Stage 5 — export: QGIS project, maps, HTML report and the RO-Crate run archive."""
