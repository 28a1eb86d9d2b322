"""Reports: NEMSIS intervals and response-time percentiles."""
