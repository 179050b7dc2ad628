"""Result folders → leaderboard tables and comparisons: collect (read, refuse what must not be
pooled), tables (estimates, tests, tiers), render (Markdown, CSV, LaTeX, HTML), compare (A vs B)."""
