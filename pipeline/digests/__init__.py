"""What a reader reads: their changes grouped, leads and subjects, HTML, text, Markdown, feeds."""
