"""The in-app inbox: what happened that concerns you (a question, a reply, a nomination, an award,
a selection, an export), with a link to it; optionally e-mailed (BESTPART_SMTP_URL)."""
