"""The project's own benchmarks: `make bench` writes bench/results.json."""
