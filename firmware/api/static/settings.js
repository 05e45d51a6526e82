"use strict";
// The settings form (GET/PUT /api/settings, behind the token): one field per key the box
// offers, built from its type and bounds; only changed values are sent; the box checks them
// with the config file's rules and answers the first bad one, shown at its field. Saved,
// the box restarts; the page waits until the box answers with a new start time.

const RESTART_WAIT_MS = 60000;

function wireSettings(ctx) {
  const { $, words, request, problem, when } = ctx;
  let loaded = null;
  const fieldId = (key) => `set-${key.replace(/[^a-z0-9_]/gi, "-")}`;

  const input = (entry) => {
    let el;
    if (entry.type === "choice") {
      el = document.createElement("select");
      el.append(...entry.choices.map((c) => new Option(c, c)));
      el.value = entry.value ?? "";
    } else if (entry.type === "boolean") {
      el = document.createElement("input");
      el.type = "checkbox";
      el.checked = Boolean(entry.value);
    } else {
      el = document.createElement("input");
      el.type = entry.secret ? "password" : (entry.type === "string" ? "text" : "number");
      if (entry.type === "number") el.step = "any";
      if (entry.min !== undefined) el.min = entry.min;
      if (entry.max !== undefined) el.max = entry.max;
      if (entry.secret) el.autocomplete = "new-password";
      el.value = entry.secret || entry.value === null ? "" : String(entry.value);
      if (entry.secret) el.placeholder = words.t(entry.set ? "settings.secret_set" : "settings.secret_unset");
    }
    el.id = fieldId(entry.key);
    el.name = entry.key;
    return el;
  };

  const field = (entry) => {
    const row = document.createElement("div");
    row.className = "row setting";
    const label = document.createElement("label");
    label.htmlFor = fieldId(entry.key);
    const named = `settings.key.${entry.key}`;
    label.textContent = words.has(named) ? words.t(named) : entry.key;
    const hint = document.createElement("small");
    hint.id = `${fieldId(entry.key)}-hint`;
    hint.textContent = entry.description || "";
    const error = document.createElement("small");
    error.id = `${fieldId(entry.key)}-error`;
    error.className = "error";
    const el = input(entry);
    el.setAttribute("aria-describedby", `${hint.id} ${error.id}`);
    row.append(label, el, hint, error);
    return row;
  };

  const render = (answer) => {
    loaded = answer;
    $("settings-fields").replaceChildren(...answer.keys.map(field));
  };

  // What the form says for one key, or undefined when it says what the box has.
  const changed = (entry) => {
    const el = $(fieldId(entry.key));
    if (entry.type === "boolean") return el.checked === Boolean(entry.value) ? undefined : el.checked;
    if (entry.secret) return el.value === "" ? undefined : el.value;
    const raw = el.value;
    const value = entry.type === "integer" || entry.type === "number"
      ? (raw === "" ? null : Number(raw)) : raw;
    const before = entry.value === null || entry.value === undefined ? (entry.type === "string" ? "" : null) : entry.value;
    return value === before ? undefined : value;
  };

  const load = async () => {
    const answer = await request("GET", "/api/settings");
    $("settings-result").textContent = answer.ok ? "" : problem(answer);
    if (answer.ok) render(answer.body);
    return answer;
  };

  const waitForRestart = async (startedAt) => {
    const until = Date.now() + RESTART_WAIT_MS;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const answer = await request("GET", "/api/settings");
      if (answer.ok && answer.body.started_at !== startedAt) {
        render(answer.body);
        // A change the new start refused was rolled back: the box runs the old settings.
        if (answer.body.refused) return words.t("settings.rolled_back", { error: answer.body.refused.error });
        return words.t("settings.applied", { time: when(answer.body.started_at) });
      }
    }
    return words.t("settings.timeout");
  };

  const save = async (event) => {
    event.preventDefault();
    for (const el of $("settings-fields").querySelectorAll(".error")) el.textContent = "";
    for (const el of $("settings-fields").querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const body = {};
    for (const entry of loaded.keys) {
      const value = changed(entry);
      if (value !== undefined) body[entry.key] = value;
    }
    if (!Object.keys(body).length) {
      $("settings-result").textContent = words.t("settings.unchanged");
      return;
    }
    $("settings-save").disabled = true;
    const answer = await request("PUT", "/api/settings", body);
    if (answer.code === 202) {
      $("settings-result").textContent = words.t("settings.restarting");
      $("settings-result").textContent = await waitForRestart(loaded.started_at);
    } else if (answer.body.key && $(fieldId(answer.body.key))) {
      const el = $(fieldId(answer.body.key));
      el.setAttribute("aria-invalid", "true");
      $(`${fieldId(answer.body.key)}-error`).textContent = answer.body.error;
      $("settings-result").textContent = problem(answer);
      el.focus();
    } else {
      $("settings-result").textContent = problem(answer);
    }
    $("settings-save").disabled = false;
  };

  $("settings-open").addEventListener("toggle", () => {
    if ($("settings-open").open && !loaded) load();
  });
  $("token").addEventListener("change", () => {
    if ($("settings-open").open && !loaded) load();
  });
  $("settings-form").addEventListener("submit", save);
}
