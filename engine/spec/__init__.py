"""The spec language perfopt/v1: YAML -> validated frozen records."""
