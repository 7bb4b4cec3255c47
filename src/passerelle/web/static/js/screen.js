/* The festival's big screen: one server-sent event a second (/api/v1/festivals/current/screen)
 * drives the counters, the orders/s chart (Chart.js), the world map (d3-geo over the vendored
 * world-atlas TopoJSON) and the boards. Everything is written with textContent. */
(function () {
  "use strict";

  var root = document.querySelector("[data-screen]");
  if (!root) { return; }
  var lang = root.getAttribute("data-lang") || document.documentElement.lang || "en";
  var isPublic = root.getAttribute("data-public") === "true";
  var numbers = new Intl.NumberFormat(lang);
  var regions = window.Intl && Intl.DisplayNames ? new Intl.DisplayNames([lang], { type: "region" }) : null;
  var label = function (name) { return root.getAttribute("data-label-" + name) || ""; };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function money(amount, currency) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: currency, maximumFractionDigits: 0 })
        .format(amount / 100);
    } catch (e) {
      return numbers.format(Math.round(amount / 100)) + " " + currency;
    }
  }

  /* GMV counts up smoothly from the last figure to the new one over most of a second. */
  var gmvNode = root.querySelector("[data-screen-gmv]");
  var gmvShown = 0;
  var gmvTarget = 0;
  var gmvFrom = 0;
  var gmvStart = 0;
  function animateGmv(now) {
    var t = Math.min(1, (now - gmvStart) / 800);
    var eased = 1 - Math.pow(1 - t, 3);
    gmvShown = Math.round(gmvFrom + (gmvTarget - gmvFrom) * eased);
    gmvNode.textContent = money(gmvShown, gmvNode.getAttribute("data-currency"));
    if (t < 1) { window.requestAnimationFrame(animateGmv); }
  }
  function setGmv(gmv) {
    if (!gmvNode || !gmv) { return; }
    gmvNode.setAttribute("data-currency", gmv.currency);
    gmvNode.setAttribute("data-amount", String(gmv.amount));
    gmvFrom = gmvShown;
    gmvTarget = gmv.amount;
    gmvStart = window.performance.now();
    window.requestAnimationFrame(animateGmv);
  }

  /* Orders per second over the last five minutes. */
  var chart = null;
  function drawChart(points) {
    var canvas = root.querySelector("[data-screen-chart]");
    if (!canvas || !window.Chart) { return; }
    var labels = points.map(function (p) {
      return new Date(p[0] * 1000).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    });
    var values = points.map(function (p) { return p[1]; });
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets[0].data = values;
      chart.update("none");
      return;
    }
    chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: labels,
        datasets: [{
          label: label("orders-per-s"), data: values, borderColor: "#ff6b5e",
          backgroundColor: "rgba(255, 107, 94, 0.18)", fill: true, pointRadius: 0, tension: 0.25, borderWidth: 2
        }]
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { color: "#aab3c5", maxTicksLimit: 6 }, grid: { color: "rgba(255,255,255,0.06)" } },
          y: { beginAtZero: true, ticks: { color: "#aab3c5", precision: 0 }, grid: { color: "rgba(255,255,255,0.06)" } }
        }
      }
    });
  }

  /* The world map: countries shaded by their share of orders (log scale). */
  var mapSvg = root.querySelector("[data-screen-map]");
  var shapes = {};
  var SVG = "http://www.w3.org/2000/svg";
  function loadMap() {
    if (!mapSvg || !window.d3 || !window.topojson) { return Promise.resolve(); }
    return fetch(root.getAttribute("data-map-url")).then(function (r) { return r.json(); }).then(function (world) {
      var land = window.topojson.feature(world, world.objects.countries);
      var projection = window.d3.geoNaturalEarth1().fitSize([960, 480], land);
      var path = window.d3.geoPath(projection);
      land.features.forEach(function (feature) {
        var d = path(feature);
        if (!d) { return; }
        var shape = document.createElementNS(SVG, "path");
        shape.setAttribute("d", d);
        shape.setAttribute("class", "screen-country");
        shape.setAttribute("data-country", String(feature.id));
        var title = document.createElementNS(SVG, "title");
        title.textContent = (feature.properties && feature.properties.name) || "";
        shape.appendChild(title);
        mapSvg.appendChild(shape);
        shapes[String(feature.id)] = shape;
      });
      mapSvg.setAttribute("data-loaded", "true");
    }).catch(function () { /* the lists still show the figures */ });
  }

  function shadeMap(countries) {
    var most = countries.reduce(function (m, c) { return Math.max(m, c.orders); }, 0);
    Object.keys(shapes).forEach(function (id) { shapes[id].style.fill = ""; shapes[id].removeAttribute("data-orders"); });
    countries.forEach(function (c) {
      var shape = shapes[c.numeric];
      if (!shape || !most) { return; }
      var share = Math.log(1 + c.orders) / Math.log(1 + most);
      shape.style.fill = "rgba(255, 107, 94, " + (0.25 + 0.75 * share).toFixed(3) + ")";
      shape.setAttribute("data-orders", String(c.orders));
    });
  }

  function fillBoard(selector, rows, render) {
    var list = root.querySelector(selector);
    if (!list) { return; }
    list.textContent = "";
    if (!rows.length) {
      list.appendChild(el("li", "screen-empty", label("waiting")));
      return;
    }
    rows.forEach(function (row) { list.appendChild(render(row)); });
  }

  function boardRow(name, detail, figure) {
    var item = el("li", "screen-board-row");
    item.appendChild(el("span", "screen-board-name", name));
    item.appendChild(el("span", "screen-board-detail", detail));
    item.appendChild(el("span", "screen-board-figure", figure));
    return item;
  }

  function render(data) {
    if (!data.festival) { return; }
    root.setAttribute("data-festival-id", String(data.festival.id));
    root.querySelector("[data-screen-orders]").textContent = numbers.format(data.orders);
    root.querySelector("[data-screen-orders]").setAttribute("data-value", String(data.orders));
    root.querySelector("[data-screen-rate]").textContent = numbers.format(data.orders_per_s);
    root.querySelector("[data-screen-peak]").textContent = numbers.format(data.peak_orders_per_s);
    if (!isPublic) { setGmv(data.gmv); }
    drawChart(data.chart || []);
    shadeMap(data.countries || []);
    fillBoard("[data-screen-countries]", (data.countries || []).slice(0, 8), function (c) {
      var name = regions ? regions.of(c.code) : c.code;
      return boardRow(name, "", numbers.format(c.orders) + " " + label("orders"));
    });
    fillBoard("[data-screen-merchants]", data.merchants || [], function (m) {
      var figure = m.gmv !== undefined ? money(m.gmv, data.gmv.currency) : numbers.format(m.orders) + " " + label("orders");
      return boardRow(m.name, m.gmv !== undefined ? numbers.format(m.orders) + " " + label("orders") : "", figure);
    });
    fillBoard("[data-screen-rooms]", data.rooms || [], function (r) {
      var name = r.title || label("room") + " #" + r.id;
      var detail = r.viewers !== undefined ? numbers.format(r.viewers) + " " + label("viewers") : "";
      var figure = r.gmv !== undefined ? money(r.gmv, data.gmv.currency) : numbers.format(r.orders) + " " + label("orders");
      return boardRow(name, detail, figure);
    });
    var extra = root.querySelector("[data-screen-extra=deliveries]");
    if (extra && data.deliveries !== undefined) {
      extra.hidden = false;
      root.querySelector("[data-screen-deliveries]").textContent = numbers.format(data.deliveries);
      if (data.recyclable_share !== undefined && data.recyclable_share !== null) {
        root.querySelector("[data-screen-recyclable]").textContent =
          new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(data.recyclable_share);
      }
    }
    root.setAttribute("data-updated-at", data.at);
  }

  var latest = null;
  loadMap().then(function () { if (latest) { render(latest); } });
  function connect() {
    var source = new EventSource("/api/v1/festivals/current/screen");
    source.addEventListener("screen", function (event) {
      latest = JSON.parse(event.data);
      render(latest);
    });
    source.onerror = function () {
      source.close();
      window.setTimeout(connect, 2000); /* the screen keeps trying: it runs all day */
    };
  }
  connect();
})();
