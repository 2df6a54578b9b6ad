# rules/export.smk — filled by the export stage.
