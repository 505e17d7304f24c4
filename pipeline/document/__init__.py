"""What a page says, free of chrome: the value objects and text helpers scrapers build it with."""
