"""Care and monitoring: monitored patients, vital signs, alerts, teleconsults."""
