"""Generated protobuf/gRPC code (private; regenerate with `python -m server.codegen`)."""
