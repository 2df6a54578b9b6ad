# rules/transport.smk — filled by the transport stage.
