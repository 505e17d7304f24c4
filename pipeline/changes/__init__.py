"""What changed between two versions of a page, and whether it matters: pure functions."""
