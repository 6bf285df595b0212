"""The benchmarks' output: reStructuredText simple tables, ready for the README."""
from __future__ import print_function


def print_table(rows):
    """Print ``rows`` (tuples of strings, the first one the header) as a simple table."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    line = "  ".join("=" * width for width in widths)
    print(line)
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print(line)
    print(line)
