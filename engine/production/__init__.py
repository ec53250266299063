"""Production SLO compliance from a real Prometheus (issue #17): client, queries, evaluation."""
