"""Referendum voting on the web: the voter's page, the public bulletin board and results,
polling stations, trustees, protocols and approval."""
