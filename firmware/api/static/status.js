"use strict";
// The status page: the pushed status (server-sent events) in words and numbers, the plot,
// the session history, and the controls that call the same API a bench or a script uses.
const $ = (id) => document.getElementById(id);
const words = translator(pickLanguage(navigator.languages));
const page = { windowS: 600, points: [], status: null, dirty: new Set(), clearing: null };

function fmt(value, unit, digits = 1) {
  return value === null || value === undefined ? "–" : `${words.num(Number(value), digits)} ${unit}`;
}

function perPhase(values, unit, digits = 1) {
  return (values || []).map((v, i) => `L${i + 1} ${fmt(v, unit, digits)}`).join(" · ") || "–";
}

const clock = new Intl.DateTimeFormat(words.lang, { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
const stamp = new Intl.DateTimeFormat(words.lang, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const when = (iso, format = clock) => {
  const date = new Date(iso);
  return !iso ? "–" : (Number.isNaN(date.getTime()) ? String(iso) : format.format(date));
};
const zoneName = () => {
  const part = clock.formatToParts(new Date()).find((p) => p.type === "timeZoneName");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return part && part.value !== zone ? `${zone} (${part.value})` : zone;
};

function showOverview(status) {
  const said = describe(status, words);
  // Written only when it changes: it is a live region, read out to a screen reader.
  if ($("state").textContent !== said.headline) $("state").textContent = said.headline;
  $("state").className = `state tone-${said.tone}`;
  $("sentence").textContent = said.sentence;
  document.title = `${said.headline} · ${status.charge_point_id || "pievse"}`;
  const meter = status.meter || {};
  $("power").textContent = meter.power_w == null ? "–" : fmt(meter.power_w / 1000, "kW");
  $("energy").textContent = status.session ? fmt(status.session.energy_wh / 1000, "kWh", 2) : "–";
  $("limit").textContent = limitWords(status, words);
  $("since").textContent = status.session ? when(status.session.started_at) : "–";
  $("temperature").textContent = fmt(status.temperature_c, "°C");
}

function showDetails(status) {
  const connector = status.connectors["1"];
  const box = status.connectors["0"];
  $("status").textContent = connector.status;
  $("box-status").textContent = box.status;
  const code = connector.error_code !== "NoError" ? connector.error_code
    : (box.error_code !== "NoError" ? box.error_code : "");
  $("error-code").textContent = code;
  const pilot = status.pilot;
  $("pilot").textContent = `${pilot.state} · ` +
    (pilot.duty_percent === null ? words.t("no_pwm") : `${words.num(pilot.duty_percent, 2)} %`);
  $("pilot-v").textContent = `${fmt(pilot.high_v, "V", 2)} / ${fmt(pilot.low_v, "V", 2)}`;
  $("offered").textContent = fmt(pilot.offered_a, "A");
  $("next-offered").textContent = fmt(pilot.next_offered_a, "A");
  $("contactor").textContent = words.t(status.contactor);
  const meter = status.meter || {};
  $("measured").textContent = perPhase(meter.current_a, "A");
  $("voltage").textContent = perPhase(meter.voltage_v, "V", 0);
  $("frequency").textContent = fmt(meter.frequency_hz, "Hz", 2);
  $("sources").textContent = Object.entries(status.limit.sources || {})
    .map(([name, amps]) => `${name} ${words.num(amps)}`).join(" · ") + ` → ${status.limit.source}`;
  $("cable").textContent = fmt(status.cable_rating_a, "A");
  $("faults").textContent = status.faults.length ? status.faults.join(", ") : words.t("none");
  $("meter-at").textContent = meter.timestamp ? when(meter.timestamp) : "–";
  $("board").textContent = status.board;
}

// A control shows the value in force unless a person is changing it.
function follow(id, value) {
  if (!page.dirty.has(id) && document.activeElement !== $(id)) $(id).value = value;
}

function showControls(status) {
  const site = status.site || {};
  follow("mode", site.mode);
  follow("setpoint", site.setpoint_a === null || site.setpoint_a === undefined ? "" : String(site.setpoint_a));
  const setpoint = site.setpoint_a ? fmt(site.setpoint_a, "A", 0) : words.t("setpoint.none");
  $("mode-now").textContent = words.t("now.mode", { mode: words.t(`mode.${site.mode}`), setpoint });
  const operative = status.connectors["0"].status !== "Unavailable";
  follow("availability", String(operative));
  $("availability-now").textContent = words.t("now.availability", { value: words.t(operative ? "operative" : "inoperative") });
  $("stop").disabled = !status.session;
}

function showCsms(status) {
  const ocpp = status.ocpp;
  $("csms-connected").textContent = words.t(ocpp.connected ? "yes" : "no");
  const registration = `reg.${ocpp.registration}`;
  $("csms-registration").textContent = words.has(registration) ? words.t(registration) : ocpp.registration;
  $("csms-profile").textContent = ocpp.security_profile ?? "–";
  $("csms-queued").textContent = ocpp.queued ?? "–";
  $("firmware").textContent = status.firmware_version || "–";
}

// Each card on its own: a part of the document the box could not build (it then reads
// {"error": ...}) leaves its card as it was instead of stopping the others.
function show(status) {
  page.status = status;
  page.firstShownMs ??= performance.now();
  $("cp-id").textContent = status.charge_point_id;
  const parts = [showOverview, showDetails, showControls, showCsms, showBench,
    (s) => showSite((s.site || {}).sharing)];
  for (const part of parts) {
    try {
      part(status);
    } catch (error) {
      console.warn("status part not shown:", error);
    }
  }
}

function cell(label, text) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.textContent = text;
  return td;
}

function fillTable(table, rows) {
  const labels = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  table.querySelector("tbody").replaceChildren(...rows.map(([className, cells]) => {
    const tr = document.createElement("tr");
    tr.className = className;
    tr.append(...cells.map((text, i) => cell(labels[i], text)));
    return tr;
  }));
}

function showSite(sharing) {
  $("site").hidden = !sharing;
  if (!sharing) return;
  $("site-id").textContent = sharing.id;
  $("site-state").textContent = sharing.state;
  $("site-reason").textContent = sharing.reason || "";
  const amps = (a) => (a === null || a === undefined ? "–" : words.num(a));
  fillTable($("site-boxes"), sharing.boxes.map((b) => [b.silent ? "faulted" : "", [b.box,
    b.phases.map((p) => `L${p + 1}`).join(""), amps(b.want_a), b.draw_a.map(amps).join(" / "), amps(b.share_a)]]));
}

function draw() {
  const now = Date.now() / 1000;
  page.points = page.points.filter((p) => p.t >= now - page.windowS);
  $("plot").dataset.points = String(drawPlot($("plot"), page.points, page.windowS, now, words));
}

function auth() {
  const token = $("token").value || localStorage.getItem("pievse-token");
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// One request with the token; answers {ok, code, body}.
async function request(method, path, body) {
  const headers = { "Content-Type": "application/json", ...auth() };
  try {
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { ok: response.ok, code: response.status, body: await response.json().catch(() => ({})) };
  } catch (error) {
    return { ok: false, code: 0, body: { error: String(error) } };
  }
}

function problem(answer) {
  const key = answer.code === 401 || answer.code === 403 ? "error.token" : "error.http";
  return words.t(key, { code: answer.code, error: answer.body.error || "" });
}

async function api(method, path, body, out = "control-result") {
  const answer = await request(method, path, body);
  $(out).textContent = answer.ok ? "" : problem(answer);
  return answer.ok;
}

async function sessions() {
  const answer = await request("GET", "/api/sessions?limit=20");
  if (!answer.ok) return;
  $("sessions-zone").textContent = words.t("sessions.times", { zone: zoneName() });
  const reason = (r) => (r ? (words.has(`reason.${r}`) ? words.t(`reason.${r}`) : r) : "");
  fillTable($("sessions"), answer.body.sessions.map((s) => ["", [String(s.id), s.id_tag,
    when(s.started_at, stamp), s.stopped_at ? when(s.stopped_at, stamp) : "",
    s.energy_wh === null ? "" : words.num(s.energy_wh / 1000, 2), reason(s.stop_reason)]]));
}

async function loadHistory() {
  const minutes = Number($("window").value);
  localStorage.setItem("pievse-window", String(minutes));
  page.windowS = minutes * 60;
  const answer = await request("GET", `/api/history?minutes=${minutes}`);
  page.points = answer.ok ? answer.body.points || [] : [];
  draw();
}

function wireControls() {
  for (const id of ["mode", "setpoint", "availability"]) {
    $(id).addEventListener("input", () => page.dirty.add(id));
    $(id).addEventListener("change", () => page.dirty.add(id));
  }
  $("token").value = localStorage.getItem("pievse-token") || "";
  $("token").addEventListener("change", () => localStorage.setItem("pievse-token", $("token").value));
  $("apply-mode").addEventListener("click", async () => {
    const setpoint = $("setpoint").value === "" ? null : Number($("setpoint").value);
    if (await api("PUT", "/api/mode", { mode: $("mode").value, setpoint_a: setpoint })) {
      page.dirty.delete("mode");
      page.dirty.delete("setpoint");
    }
  });
  $("stop").addEventListener("click", () => api("POST", "/api/session/stop"));
  $("apply-availability").addEventListener("click", async () => {
    if (await api("PUT", "/api/availability", { operative: $("availability").value === "true" })) {
      page.dirty.delete("availability");
    }
  });
}

// The push stream, opened again with the token when one is entered. An EventSource cannot
// tell a refusal from a lost link, so on an error the page asks once whether the box wants
// the token, and says so beside the token field.
function connect() {
  if (page.events) page.events.close();
  const token = $("token").value;
  const events = new EventSource(token ? `/api/events?token=${encodeURIComponent(token)}` : "/api/events");
  events.onopen = () => { $("link").textContent = words.t("link.live"); };
  events.onerror = async () => {
    $("link").textContent = words.t("link.reconnecting");
    const answer = await request("GET", "/api/status");
    if (answer.code === 401 || answer.code === 403) $("control-result").textContent = problem(answer);
  };
  events.onmessage = (message) => {
    const data = JSON.parse(message.data);
    const ended = page.status && page.status.session && !data.status.session;
    show(data.status);
    page.points.push(data.point);
    draw();
    if (ended) sessions();
  };
  page.events = events;
}

function start() {
  translatePage(document, words);
  wireControls();
  wireBench();
  wireCommission({ $, words, request, problem, when, fillTable });
  wireSettings({ $, words, request, problem, when });
  $("window").value = localStorage.getItem("pievse-window") || "10";
  if (!$("window").value) $("window").value = "10";
  $("window").addEventListener("change", loadHistory);
  $("token").addEventListener("change", () => {
    connect();
    loadHistory();
    sessions();
  });
  window.addEventListener("resize", draw);
  loadHistory();
  connect();
  sessions();
  setInterval(sessions, 60000);
}

window.pievse = { describe, limitWords, translator, pickLanguage, page, draw };
start();
