"use strict";
// The bench controls (simulated boards only): the EV, a card with any id, every fault the
// bench can inject (listed by the box), the enclosure temperature. A fault cleared on the
// bench may stay latched in the box; the page says so and what clears it.

async function bench(action, body) {
  const answer = await request("POST", `/api/bench/${action}`, body);
  $("bench-result").textContent = answer.ok ? benchActive(answer.body.ev) : problem(answer);
  return answer.ok;
}

function benchActive(ev) {
  const active = (ev && ev.faults) || [];
  return active.length ? words.t("bench.active", { faults: active.join(", ") }) : "";
}

async function loadBenchFaults() {
  const answer = await request("GET", "/api/bench");
  if (!answer.ok) return;
  $("fault").replaceChildren(...answer.body.faults.map((name) => new Option(name, name)));
  $("bench-result").textContent = benchActive(answer.body.ev);
}

function showBench(status) {
  const wasHidden = $("bench").hidden;
  $("bench").hidden = !status.bench;
  if (status.bench && wasHidden) loadBenchFaults();
  if (!page.clearing) return;
  const faults = status.faults || [];
  if (!faults.length) {
    $("bench-result").textContent = words.t("clear.done");
    page.clearing = null;
    return;
  }
  const named = faultWords(words, worstFault(faults));
  $("bench-result").textContent = words.t("clear.latched", named);
}

function wireBench() {
  for (const id of ["plug-in", "charge", "unplug"]) {
    $(id).addEventListener("click", () => bench("ev", { state: $(id).dataset.ev }));
  }
  $("present-card").addEventListener("click", () => bench("tag", { id_tag: $("card-id").value }));
  $("fault-on").addEventListener("click", () => {
    page.clearing = null;
    bench("fault", { fault: $("fault").value, active: true });
  });
  $("fault-off").addEventListener("click", async () => {
    if (await bench("fault", { fault: $("fault").value, active: false })) page.clearing = $("fault").value;
  });
  $("set-temp").addEventListener("click", () => bench("temperature", { celsius: Number($("bench-temp").value) }));
}
