"""cancelmatch's matcher: CEL parser, compiler, normalization and listener index (no grpc)."""
