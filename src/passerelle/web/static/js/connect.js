// Influencer program pages: "Copy" buttons for tracked links, and charts drawn with the vendored uPlot.
(function () {
  "use strict";

  function copy(button) {
    var text = button.getAttribute("data-copy");
    var done = function () {
      button.textContent = button.getAttribute("data-copied") || "OK";
      button.classList.add("copied");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else {
      fallback(text);
      done();
    }
  }

  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the link stays selectable in its field */ }
    document.body.removeChild(area);
  }

  function draw(box) {
    var source = box.nextElementSibling;
    if (!source || typeof uPlot === "undefined") return;
    var rows = JSON.parse(source.textContent || "[]");
    if (!rows.length) return;
    var width = Math.max(260, box.clientWidth);
    // Labels come translated from the page; dates in the page's language ("29 oct.", "Oct 29").
    var label = box.getAttribute("data-label") || "";
    var day = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
                                      { day: "numeric", month: "short", timeZone: "UTC" });
    var dayOf = function (seconds) { return day.format(new Date(seconds * 1000)); };
    var data, series, opts;
    if (box.getAttribute("data-chart") === "clicks") {
      data = [rows.map(function (r) { return Date.parse(r.day + "T00:00:00Z") / 1000; }),
              rows.map(function (r) { return r.clicks; })];
      series = [{ label: box.getAttribute("data-x-label") || "",
                  value: function (_u, v) { return v == null ? "--" : dayOf(v); } },
                { label: label, stroke: "#5b3cc4", width: 2, fill: "rgba(91,60,196,.1)" }];
      opts = { width: width, height: 220, series: series,
               axes: [{ values: function (_u, ticks) { return ticks.map(dayOf); } }, {}] };
    } else {
      data = [rows.map(function (_r, i) { return i; }), rows.map(function (r) { return r.gmv / 100; })];
      series = [{}, { label: label, stroke: "#1a7f37", fill: "rgba(26,127,55,.35)",
                      paths: uPlot.paths.bars({ size: [0.6, 60] }) }];
      opts = { width: width, height: 220, series: series, scales: { x: { time: false } },
               axes: [{ values: function (_u, ticks) { return ticks.map(function (t) { return rows[t] ? "@" + rows[t].handle : ""; }); } }, {}] };
    }
    new uPlot(opts, data, box);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".copy-link");
    if (button) copy(button);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".connect-chart").forEach(draw);
  });
})();
