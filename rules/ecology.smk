# rules/ecology.smk — filled by the ecology stage.
