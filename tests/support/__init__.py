"""Helpers shared by the tests and the benchmarks: the local news-site server, the poll gate."""
