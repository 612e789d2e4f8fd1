"""Evidence-system export folders: each manifest imported (by `bestpart import`, once, or by the
watched folder, continuously) and what became of each of its rows. The rows themselves go through
the one ingest path (api.clips.ingest); this slice records the runs, watches the folder and lists
the runs for admins."""
