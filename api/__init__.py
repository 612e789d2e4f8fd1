"""bestpart: body-worn-camera tagging, recognition and video review."""
