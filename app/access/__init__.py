"""Who may do what: permission levels (RBAC), clinical competencies (CBAC), patient access."""
