"""Customer satisfaction beside the footage: survey responses imported from the department's
survey tool, linked to clips by incident number (and badge where given), shown on the clip, used
as a lead in the queue and charted on the dashboard."""
