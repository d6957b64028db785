"""Administering user accounts (admins and superadmins)."""
