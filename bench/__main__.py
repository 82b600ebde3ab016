"""Entry point: ``python -m bench`` runs the benchmark report (see bench.report)."""

from bench.report import main

raise SystemExit(main())
