"""Tests of llb eval: metrics, reference propagators, DAVIS reading, the CLI."""
