"""cancelmatch's service: gRPC + REST APIs, durable store and CLI."""
