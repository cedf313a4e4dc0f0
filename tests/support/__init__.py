"""Helpers shared by the tests and the benchmarks: the local news-site server, the poll gate, the archive read
back through the reader Protocol, and article builders."""
