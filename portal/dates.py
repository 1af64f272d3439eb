"""The portal's one style for dates (Babel patterns, the same in every language)."""

DAY_PATTERN = "dd.MM.yyyy"
MOMENT_PATTERN = "dd.MM.yyyy HH:mm"
