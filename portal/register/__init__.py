"""The voter register on the web: extract imports and the polling-station voter lookup."""
