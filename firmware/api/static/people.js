"use strict";
// The status document in words for people: a pure function of the document and the
// language's words, so a test can feed it documents and read the sentences.

// The box's faults from the most to the least severe (the order of its fault table): the
// headline names the worst one.
const FAULT_ORDER = ["contactor_weld", "contactor_failure", "phase_contactor", "rcd", "tamper",
  "overcurrent", "diode", "pilot_error", "cable", "lock", "meter_offline", "overtemperature", "internal"];
const MIN_A = 6;

function worstFault(faults) {
  const known = FAULT_ORDER.filter((f) => faults.includes(f));
  return known[0] ?? faults[0];
}

function sourceWords(words, source) {
  return words.has(`source.${source}`) ? words.t(`source.${source}`) : source;
}

function faultWords(words, fault) {
  return {
    fault: words.has(`fault.${fault}`) ? words.t(`fault.${fault}`) : fault,
    how: words.has(`how.${fault}`) ? words.t(`how.${fault}`) : "",
  };
}

// Phases with current flowing (over half an ampere), or those switched in when the meter
// says nothing.
function phasesInUse(status) {
  const currents = (status.meter || {}).current_a || [];
  const flowing = currents.map((c, i) => [c, i]).filter(([c]) => c !== null && c >= 0.5);
  if (flowing.length) return flowing.map(([, i]) => i + 1);
  const inUse = ((status.site || {}).phases || {}).in_use || 3;
  return inUse === 1 ? [1] : [1, 2, 3];
}

function kwh(words, wh) {
  const value = wh / 1000;
  return words.num(value, value < 1 ? 2 : 1);
}

function pausedSentence(status, words) {
  const limit = status.limit || {};
  const site = status.site || {};
  const stage = (site.phases || {}).stage;
  if (stage && stage !== "steady") return words.t("say.switching");
  if (limit.current_a >= MIN_A || typeof limit.source !== "string") return words.t("say.paused");
  if (limit.source === "charging_mode" && site.mode === "off") return words.t("say.mode_off");
  if (limit.source === "charging_mode" && site.mode === "pv") {
    return site.surplus_a === null || site.surplus_a === undefined ? words.t("say.pv_wait")
      : words.t("say.pv_wait_now", { a: words.num(Math.max(0, site.surplus_a)) });
  }
  return words.t("say.paused_by", { source: sourceWords(words, limit.source) });
}

function chargingSentence(status, words) {
  const meter = status.meter || {};
  const phases = phasesInUse(status);
  const currents = (meter.current_a || []).filter((c) => c !== null);
  const amps = currents.length ? Math.max(...currents) : (status.pilot || {}).offered_a ?? 0;
  return words.t("say.charging", {
    kw: words.num((meter.power_w || 0) / 1000),
    a: words.num(amps, 0),
    phases: phases.map((n) => words.t("phase", { n })).join(" "),
    kwh: kwh(words, status.session ? status.session.energy_wh : 0),
  });
}

// The headline, its tone (the colour) and the sentence under it.
function describe(status, words) {
  const unknown = { status: "Unknown", error_code: "NoError" };
  const connector = (status.connectors || {})["1"] || unknown;
  const box = (status.connectors || {})["0"] || unknown;
  const faults = status.faults || [];
  const fault = faults.length ? worstFault(faults) : null;
  const say = (tone, state, sentence) => ({ tone, headline: words.t(`state.${state}`), sentence });
  if (fault === "overtemperature") {
    return say("warn", "hot", words.t("say.hot", { c: words.num(status.temperature_c ?? 0, 0) }));
  }
  if (fault) return say("fault", "fault", words.t("say.fault", faultWords(words, fault)));
  if (connector.status === "Faulted" || box.status === "Faulted") {
    const code = connector.error_code !== "NoError" ? connector.error_code : box.error_code;
    return say("fault", "fault", words.t("say.fault", { fault: code, how: "" }).replace(/ — $/, ""));
  }
  if (box.status === "Unavailable" || connector.status === "Unavailable") {
    return say("off", "unavailable", words.t("say.unavailable"));
  }
  switch (connector.status) {
    case "Charging": return say("charging", "charging", chargingSentence(status, words));
    case "SuspendedEVSE": return say("paused", "paused", pausedSentence(status, words));
    case "SuspendedEV": return say("paused", "car_paused", words.t("say.car_paused"));
    case "Preparing":
      return say("ready", "plugged", words.t(status.session ? "say.starting" : "say.present_card"));
    case "Finishing": return say("ready", "finished", words.t("say.finished"));
    case "Reserved":
      return say("ready", "reserved", words.t("say.reserved", { tag: (status.reservation || {}).id_tag ?? "" }));
    case "Available": return say("idle", "ready", words.t("say.waiting"));
    default: return say("idle", "unknown", words.t("say.unknown", { status: connector.status }));
  }
}

// The limit in words: while nothing is plugged in the cable's 0 A is no limit a person
// needs to see, so the line says what a car will get; during a fault, that nothing is
// offered whatever the limit.
function limitWords(status, words) {
  const limit = status.limit || {};
  if (typeof limit.current_a !== "number") return "–";
  const sources = Object.entries(limit.sources || {});
  if (Array.isArray(status.faults) && status.faults.length) {
    return words.t("limit.fault", { a: words.num(limit.current_a), source: sourceWords(words, limit.source) });
  }
  if ((status.pilot || {}).state === "A") {
    const others = sources.filter(([name]) => name !== "cable");
    if (others.length) {
      const [source, amps] = others.reduce((low, entry) => (entry[1] < low[1] ? entry : low));
      return words.t("limit.idle", { a: words.num(amps, 0), source: sourceWords(words, source) });
    }
  }
  return words.t("limit.set", { a: words.num(limit.current_a), source: sourceWords(words, limit.source) });
}
