"use strict";
// Commissioning on the page: runs the bring-up checks (POST /api/commission) and shows each
// step's result and measured value; on load, the last report the box kept.

function wireCommission(ctx) {
  const { $, words, request, problem, when, fillTable } = ctx;
  const show = (report) => {
    const result = words.t(`outcome.${report.result}`);
    $("commission-summary").textContent = words.t("commission.result", { result, finished: when(report.finished) });
    $("commission-summary").className = `note outcome-${report.result}`;
    fillTable($("commission-steps"), report.steps.map((s) => [`outcome-${s.outcome}`,
      [s.step, words.t(`outcome.${s.outcome}`), s.measured, s.reason]]));
  };
  // The last report is asked for when the section opens (404 before the first run).
  $("commission-open").addEventListener("toggle", async () => {
    if (!$("commission-open").open || $("commission-steps").tBodies[0].rows.length) return;
    const answer = await request("GET", "/api/commission");
    if (answer.ok) show(answer.body);
    else $("commission-summary").textContent = words.t("commission.none");
  });
  $("commission-run").addEventListener("click", async () => {
    $("commission-run").disabled = true;
    $("commission-summary").textContent = words.t("commission.running");
    const answer = await request("POST", "/api/commission", {});
    $("commission-run").disabled = false;
    if (answer.ok) show(answer.body);
    else $("commission-summary").textContent = problem(answer);
  });
}
