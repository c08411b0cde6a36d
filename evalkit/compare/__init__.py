"""Compare systems across runs: matched rows, significance, breakdowns, output formats."""
