"""cancelmatch: ``python -m cancelmatch`` runs the CLI (server.cli); no logic lives here."""
