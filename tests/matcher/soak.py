"""Long differential runs (not collected by pytest): the CI generators, many more examples.

    python tests/matcher/soak.py [--minutes N] [--batch N]

Runs, round after round with fresh random seeds, every generator of the project's own
differentials until the time is up: CEL expressions against Google's C++ CEL
(test_differential), widened index scenarios (test_interpolation_differential), the
index's own scenarios (test_index_properties) and the cost-estimate property (test_cost).
Prints how many cases and scenarios ran; the first disagreement stops it with hypothesis'
shrunk reproduction.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

import test_cost  # noqa: E402
import test_differential  # noqa: E402
import test_index_properties  # noqa: E402
import test_interpolation_differential  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402


def _soak(name: str, strategy: Any, body: Any, examples: int, counts: Counter[str]) -> None:
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(strategy)
    def run(case: Any) -> None:
        body(case)
        counts[name] += 1

    run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=2000, help="examples per round")
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    wide: Counter[str] = Counter()  # events compared, statuses... of the widened scenarios
    index: Counter[str] = Counter()
    from hypothesis import strategies as st

    cel_cases = st.tuples(test_differential.expressions(), test_differential.json_objects,
                          test_differential.scalars_mostly)
    jobs = [
        ("cel_cases", cel_cases, lambda c: test_differential.check_agreement(*c), 1),
        ("wide_index_scenarios", test_interpolation_differential.wide_scenarios(),
         lambda s: test_interpolation_differential.run_wide_scenario(s, wide), 4),
        ("index_scenarios", test_index_properties.scenarios(),
         lambda s: test_index_properties.run_scenario(s, index), 8),
        ("cost_cases", st.tuples(test_cost.expressions(), test_cost.DATA, test_cost.DATA),
         lambda c: test_cost.test_evaluations_never_charge_more_than_the_estimate.hypothesis
         .inner_test(*c), 2),
    ]
    deadline = time.monotonic() + args.minutes * 60
    rounds = 0
    while time.monotonic() < deadline:
        for name, strategy, body, divisor in jobs:
            _soak(name, strategy, body, max(1, args.batch // divisor), counts)
        rounds += 1
        print(f"round {rounds}: {dict(counts)}", flush=True)
    print(f"total after {rounds} rounds: {dict(counts)}")
    print(f"widened scenarios: {dict(wide)}")
    print(f"index scenarios: {dict(index)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
