"""Stage 2 — transport: road graphs, OD matrices, accessibility indices, travel-time surfaces."""
