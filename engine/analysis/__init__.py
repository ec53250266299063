"""Analysis stages: pure functions from run results to checks and verdicts."""
