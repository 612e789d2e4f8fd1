// Nominations: each committee member votes once (approve, or decline with a reason) or recuses.
// The votes decide: the answer says whether this vote settled the nomination.
import { api } from "/static/app.js";

function report(form, text, bad = false) {
  const node = form.querySelector(".form-message");
  node.textContent = text;
  node.className = `form-message ${bad ? "bad" : "good"}`;
}

function tallyText(nomination) {
  const t = nomination.tally;
  const recused = t.recused ? `, ${t.recused} recused` : "";
  return `Votes: ${t.votes_for} for, ${t.votes_against} against${recused}`;
}

function outcomeText(choice, nomination) {
  if (nomination.state === "approved") {
    return `Your vote settled it: approved. ${nomination.award_name} recorded for ${nomination.officers.join(", ")}.`;
  }
  if (nomination.state === "declined") return `Your vote settled it: declined. ${nomination.decision_reason ?? ""}`.trim();
  if (choice === "recuse") return "You recused yourself from this nomination.";
  const needed = nomination.tally.votes_needed;
  return `Your vote to ${choice} is recorded; ${needed} more ${needed === 1 ? "vote" : "votes"} to reach the quorum.`;
}

async function vote(form, choice) {
  const reason = form.elements.reason.value.trim();
  const awardName = form.elements.award_name.value.trim();
  if (choice === "decline" && !reason) {
    form.elements.reason.focus();
    return report(form, "A vote to decline needs a reason.", true);
  }
  if (choice === "approve" && !awardName) return report(form, "Name the award.", true);
  // A vote is final (the API answers 409 to a second one), and Enter in a field submits too.
  const asked = choice === "recuse" ? "Recuse yourself from" : `Vote to ${choice}`;
  if (!window.confirm(`${asked} nomination ${form.dataset.nomination}? This cannot be undone.`)) return;
  const id = form.dataset.nomination;
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    let nomination;
    if (choice === "recuse") {
      nomination = await api("POST", `/api/v1/nominations/${id}/recusal`, { reason: reason || null });
    } else {
      const body = { approve: choice === "approve", reason: reason || null };
      if (choice === "approve") {
        body.award_name = awardName;
        if (form.elements.awarded_on.value) body.awarded_on = form.elements.awarded_on.value;
      }
      nomination = await api("POST", `/api/v1/nominations/${id}/votes`, body);
    }
    const card = form.closest(".nomination");
    card.classList.replace("pending", nomination.state);
    card.querySelector(".pill").textContent = nomination.state;
    const tally = card.querySelector(".tally");
    tally.replaceChildren(tallyText(nomination));
    const done = document.createElement("p");
    done.setAttribute("role", "status");
    done.className = `own-vote ${nomination.state === "declined" ? "bad" : "good"}`;
    done.textContent = outcomeText(choice, nomination);
    for (const awardId of nomination.award_ids ?? []) {
      const link = document.createElement("a");
      link.href = `/awards/${awardId}`;
      link.textContent = `Award ${awardId}`;
      done.append(" ", link);
    }
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
  vote(form, event.submitter?.value ?? "approve");
});
