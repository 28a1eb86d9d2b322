"""Pure geometry and travel time: geodesic distance, speed models, spatial index."""
