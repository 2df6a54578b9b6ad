# rules/metrics.smk — filled by the metrics stage.
