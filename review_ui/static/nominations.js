// Nominations: the committee approves (the award is recorded for each officer) or declines with a reason.
import { api } from "/static/app.js";

function report(form, text, bad = false) {
  const node = form.querySelector(".form-message");
  node.textContent = text;
  node.className = `form-message ${bad ? "bad" : "good"}`;
}

async function decide(form, approve) {
  const reason = form.elements.reason.value.trim();
  const awardName = form.elements.award_name.value.trim();
  if (!approve && !reason) {
    form.elements.reason.focus();
    return report(form, "Declining needs a reason.", true);
  }
  if (approve && !awardName) return report(form, "Name the award.", true);
  // A decision is final (the API answers 409 to a second one), and Enter in a field submits too.
  if (!window.confirm(`${approve ? "Approve" : "Decline"} nomination ${form.dataset.nomination}? This cannot be undone.`)) return;
  const body = { approve, reason: reason || null, award_name: awardName || "Act of Excellence" };
  if (form.elements.awarded_on.value) body.awarded_on = form.elements.awarded_on.value;
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const decided = await api("POST", `/api/v1/nominations/${form.dataset.nomination}/decision`, body);
    const card = form.closest(".nomination");
    card.classList.replace("pending", decided.state);
    card.querySelector(".pill").textContent = decided.state;
    const done = document.createElement("p");
    done.setAttribute("role", "status");
    done.className = approve ? "good" : "bad";
    done.textContent = approve
      ? `Approved: ${decided.award_name} recorded for ${decided.officers.join(", ")}.`
      : `Declined. Reason: ${decided.decision_reason}`;
    form.replaceWith(done);
  } catch (error) {
    report(form, error.message, true);
    buttons.forEach((b) => { b.disabled = false; });
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches(".decide-form")) return;
  event.preventDefault();
  decide(form, (event.submitter?.value ?? "approve") === "approve");
});
