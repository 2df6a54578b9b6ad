"""Stage 4 — metrics: road–corridor crossings, cluster metrics, clusters compared."""
