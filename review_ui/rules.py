"""Page: the recognition rules (admins). It shows the rules in force, as GET
/api/v1/recognition/rules does (api.recognition.service); the browser checks an edit with POST
/api/v1/recognition/rules/check, the checks PUT makes, shows each problem at the cue it concerns,
and saves with PUT /api/v1/recognition/rules (audited there as rules.replace)."""

from fastapi import APIRouter, Request

from api.recognition import service as recognition
from review_ui.pages import AdminPage, render

router = APIRouter(include_in_schema=False)


@router.get("/admin/rules")
def rules_page(request: Request, principal: AdminPage):
    found = recognition.rules_in_force()
    version = found.version or found.data.get("version")
    return render(
        request,
        "rules.html",
        principal,
        found=found,
        data=found.data,
        cues=[cue for cue in found.data.get("cues") or [] if isinstance(cue, dict)],
        speakers=recognition.SPEAKERS,
        next_version=version + 1 if isinstance(version, int) else 1,  # the description: bump it on every edit
    )
