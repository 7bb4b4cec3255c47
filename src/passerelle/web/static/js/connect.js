// Influencer program pages: "Copy" buttons for tracked links, and charts drawn with the vendored Chart.js.
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
    if (!source || !window.Chart) return;
    var rows = JSON.parse(source.textContent || "[]");
    if (!rows.length) return;
    // Labels come translated from the page; dates in the page's language ("29 oct.", "Oct 29").
    var label = box.getAttribute("data-label") || "";
    var day = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
                                      { day: "numeric", month: "short", timeZone: "UTC" });
    var clicks = box.getAttribute("data-chart") === "clicks";
    var dataset = clicks
      ? { label: label, data: rows.map(function (r) { return r.clicks; }), borderColor: "#5b3cc4",
          backgroundColor: "rgba(91,60,196,.1)", fill: true, pointRadius: 2, tension: 0.2, borderWidth: 2 }
      : { label: label, data: rows.map(function (r) { return r.gmv / 100; }), backgroundColor: "rgba(26,127,55,.55)",
          borderColor: "#1a7f37", borderWidth: 1, maxBarThickness: 60 };
    var canvas = document.createElement("canvas");
    canvas.setAttribute("data-connect-chart", clicks ? "clicks" : "bars");
    box.appendChild(canvas);
    new window.Chart(canvas, {
      type: clicks ? "line" : "bar",
      data: {
        labels: rows.map(function (r) {
          return clicks ? day.format(new Date(r.day + "T00:00:00Z")) : "@" + r.handle;
        }),
        datasets: [dataset]
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".copy-link");
    if (button) copy(button);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".connect-chart").forEach(draw);
  });
})();
