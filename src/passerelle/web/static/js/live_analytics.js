// Room analytics chart: card clicks and orders per product (vendored Chart.js).
(function () {
  "use strict";
  var canvas = document.querySelector("[data-analytics-chart]");
  if (!canvas || !window.Chart) return;
  var data = JSON.parse(document.querySelector("[data-analytics-data]").textContent);
  var names = document.querySelector("[data-msg-clicks]");
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: names.getAttribute("data-msg-clicks"), data: data.clicks, backgroundColor: "#7aa2f7" },
        { label: names.getAttribute("data-msg-orders"), data: data.orders, backgroundColor: "#e0af68" }
      ]
    },
    options: { responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
})();
