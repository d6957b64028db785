"""Web pages for clinicians, patients and admins: server-rendered, calling the same services
(and so the same access rules) as the API. A browser signs in with a session cookie."""
