"""Reports for people: terminal text, Markdown, and the editor's HTML page (templates/)."""
