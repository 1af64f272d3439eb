"""Users, roles, memberships and sign-in."""
