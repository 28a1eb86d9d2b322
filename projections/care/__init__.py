"""Care read models: the monitoring board and the teleconsult queue."""
