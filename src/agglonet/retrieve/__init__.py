"""Stage 1 — retrieve: the cluster catalogue, boundaries, seats, land cover and elevation."""
