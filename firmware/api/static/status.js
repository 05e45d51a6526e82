"use strict";
// The status page: the pushed status (server-sent events), a plot drawn as SVG, the
// session history, and the controls that call the same API a bench or a script uses.
const $ = (id) => document.getElementById(id);
let WINDOW_S = 600;
const COLOURS = { offered: "#6b7280", l1: "#2563eb", l2: "#16a34a", l3: "#d97706", power: "#9333ea" };
let points = [];

function fmt(value, unit, digits = 1) {
  return value === null || value === undefined ? "–" : `${Number(value).toFixed(digits)} ${unit}`;
}

function show(status) {
  const connector = status.connectors["1"];
  $("cp-id").textContent = status.charge_point_id;
  $("status").textContent = connector.status;
  $("status").className = connector.status === "Faulted" ? "faulted" : "";
  const box = status.connectors["0"];
  const code = connector.error_code !== "NoError" ? connector.error_code
    : (box.error_code !== "NoError" ? box.error_code : "");
  $("error-code").textContent = code;
  $("pilot").textContent = `${status.pilot.state}` +
    (status.pilot.duty_percent === null ? " (no PWM)" : ` (${status.pilot.duty_percent} %)`);
  $("contactor").textContent = status.contactor;
  $("offered").textContent = fmt(status.pilot.offered_a, "A");
  const meter = status.meter || {};
  const currents = meter.current_a || [];
  $("measured").textContent = currents.map((c) => fmt(c, "A")).join(" / ") || "–";
  $("power").textContent = fmt(meter.power_w, "W", 0);
  $("energy").textContent = status.session ? fmt(status.session.energy_wh / 1000, "kWh", 3) : "–";
  $("limit").textContent = `${fmt(status.limit.current_a, "A")} (${status.limit.source})`;
  $("temperature").textContent = fmt(status.temperature_c, "°C");
  $("faults").textContent = status.faults.length ? status.faults.join(", ") : "none";
  $("faults").className = status.faults.length ? "faulted" : "";
  const ocpp = status.ocpp;
  $("csms-connected").textContent = String(ocpp.connected);
  $("csms-registration").textContent = ocpp.registration;
  $("csms-profile").textContent = ocpp.security_profile ?? "–";
  $("csms-queued").textContent = ocpp.queued ?? "–";
  $("firmware").textContent = status.firmware_version || "–";
  $("bench").hidden = !status.bench;
  showSite((status.site || {}).sharing);
  if (document.activeElement !== $("mode") && status.site) $("mode").value = status.site.mode;
}

// Longer than two stored minutes without a point: the box was off, so the line breaks.
const GAP_S = 150;

function showSite(sharing) {
  $("site").hidden = !sharing;
  if (!sharing) return;
  $("site-id").textContent = sharing.id;
  $("site-state").textContent = sharing.state;
  $("site-reason").textContent = sharing.reason || "";
  const amps = (a) => (a === null || a === undefined ? "–" : Number(a).toFixed(1));
  $("site-boxes").querySelector("tbody").innerHTML = sharing.boxes.map((b) =>
    `<tr class="${b.silent ? "faulted" : ""}"><td>${b.box}</td>` +
    `<td>${b.phases.map((p) => `L${p + 1}`).join("")}</td><td>${amps(b.want_a)}</td>` +
    `<td>${b.draw_a.map(amps).join(" / ")}</td><td>${amps(b.share_a)}</td></tr>`).join("");
}

function line(key, pick, scale, t0) {
  const xy = points.map((p) => [p.t, ((p.t - t0) / WINDOW_S) * 600, 210 - pick(p) * scale])
    .filter(([, , y]) => Number.isFinite(y));
  if (!xy.length) return "";
  const d = xy.map(([t, x, y], i) =>
    `${i && t - xy[i - 1][0] <= GAP_S ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
  return `<path d="${d}" fill="none" stroke="${COLOURS[key]}" stroke-width="1.5"/>`;
}

function draw() {
  const now = Date.now() / 1000;
  const t0 = now - WINDOW_S;
  points = points.filter((p) => p.t >= t0);
  const maxA = Math.max(32, ...points.map((p) => Math.max(p.offered_a || 0, ...(p.current_a || []).map((c) => c || 0))));
  const maxW = Math.max(1000, ...points.map((p) => p.power_w || 0));
  const amps = 200 / maxA;
  const watts = 200 / maxW;
  const svg = $("plot");
  svg.innerHTML =
    `<text x="4" y="12" font-size="10">${maxA.toFixed(0)} A / ${(maxW / 1000).toFixed(1)} kW</text>` +
    line("offered", (p) => p.offered_a, amps, t0) +
    ["l1", "l2", "l3"].map((k, i) => line(k, (p) => (p.current_a || [])[i], amps, t0)).join("") +
    line("power", (p) => p.power_w, watts, t0);
  svg.dataset.points = String(points.length);
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json", ...auth() };
  const response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const answer = await response.json().catch(() => ({}));
  $("control-result").textContent = response.ok ? "" : `${response.status}: ${answer.error || ""}`;
  return response.ok;
}

async function sessions() {
  const response = await fetch("/api/sessions?limit=20", { headers: auth() });
  if (!response.ok) return;
  const rows = (await response.json()).sessions;
  $("sessions").querySelector("tbody").innerHTML = rows.map((s) =>
    `<tr><td>${s.id}</td><td>${s.id_tag}</td><td>${s.started_at.slice(0, 19)}</td>` +
    `<td>${(s.stopped_at || "").slice(0, 19)}</td>` +
    `<td>${s.energy_wh === null ? "" : (s.energy_wh / 1000).toFixed(3)}</td>` +
    `<td>${s.stop_reason || ""}</td></tr>`).join("");
}

async function loadHistory() {
  const minutes = Number($("window").value);
  WINDOW_S = minutes * 60;
  const history = await fetch(`/api/history?minutes=${minutes}`, { headers: auth() })
    .then((r) => r.json()).catch(() => ({ points: [] }));
  points = history.points || [];
  draw();
}

function auth() {
  const token = $("token").value || localStorage.getItem("pievse-token");
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function wire() {
  $("window").addEventListener("change", loadHistory);
  $("token").value = localStorage.getItem("pievse-token") || "";
  $("token").addEventListener("change", () => localStorage.setItem("pievse-token", $("token").value));
  for (const id of ["plug-in", "charge", "unplug"]) {
    $(id).addEventListener("click", () => api("POST", "/api/bench/ev", { state: $(id).dataset.ev }));
  }
  $("present-card").addEventListener("click", () => api("POST", "/api/bench/tag", { id_tag: "PAGE-CARD" }));
  $("fault-on").addEventListener("click", () => api("POST", "/api/bench/fault", { fault: $("fault").value, active: true }));
  $("fault-off").addEventListener("click", () => api("POST", "/api/bench/fault", { fault: $("fault").value, active: false }));
  $("set-temp").addEventListener("click", () => api("POST", "/api/bench/temperature", { celsius: Number($("bench-temp").value) }));
  $("apply-mode").addEventListener("click", () => {
    const setpoint = $("setpoint").value === "" ? null : Number($("setpoint").value);
    api("PUT", "/api/mode", { mode: $("mode").value, setpoint_a: setpoint });
  });
  $("stop").addEventListener("click", () => api("POST", "/api/session/stop"));
  $("apply-availability").addEventListener("click", () =>
    api("PUT", "/api/availability", { operative: $("availability").value === "true" }));
}

async function start() {
  wire();
  await loadHistory();
  const token = $("token").value;
  const events = new EventSource(token ? `/api/events?token=${encodeURIComponent(token)}` : "/api/events");
  events.onopen = () => { $("link").textContent = "live"; };
  events.onerror = () => { $("link").textContent = "reconnecting…"; };
  events.onmessage = (message) => {
    const data = JSON.parse(message.data);
    show(data.status);
    points.push(data.point);
    draw();
  };
  sessions();
  setInterval(sessions, 10000);
}

start();
