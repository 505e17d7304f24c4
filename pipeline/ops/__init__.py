"""What the operator reads: status, the run summary, logs, a page previewed."""
