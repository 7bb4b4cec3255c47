/* An auction page: the countdown follows the server's clock and any anti-sniping
 * extension; price, bid count and "you lead / outbid" follow the API every 2 s. */
(function () {
  "use strict";
  var root = document.querySelector("[data-auction]");
  if (!root) { return; }
  var id = root.getAttribute("data-auction-id");
  var lang = root.getAttribute("data-lang") || document.documentElement.lang;
  var clock = root.querySelector("[data-auction-countdown]");
  var offset = 0;
  var target = NaN;
  if (clock) {
    offset = Date.parse(clock.getAttribute("data-server-now")) - Date.now();
    target = Date.parse(clock.getAttribute("data-target"));
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    if (!clock || isNaN(target)) { return; }
    var left = Math.max(0, Math.ceil((target - (Date.now() + offset)) / 1000));
    var hours = Math.floor(left / 3600);
    clock.textContent = pad(hours) + ":" + pad(Math.floor((left % 3600) / 60)) + ":" + pad(left % 60);
  }
  window.setInterval(tick, 250);
  tick();

  function money(value) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: value.currency }).format(value.amount / 100);
    } catch (e) { return String(value.amount / 100) + " " + value.currency; }
  }
  function refresh() {
    fetch("/api/v1/auctions/" + encodeURIComponent(id), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) {
        if (!a) { return; }
        root.querySelector("[data-auction-price]").textContent = money(a.price);
        root.querySelector("[data-auction-bids]").textContent = String(a.bids);
        var ends = Date.parse(a.ends_at);
        if (!isNaN(ends)) { target = ends; if (clock) { clock.setAttribute("data-target", a.ends_at); } }
        var leading = root.querySelector("[data-auction-status=leading]");
        var outbid = root.querySelector("[data-auction-status=outbid]");
        if (a.status === "open" && leading && outbid && (a.leading || !outbid.hidden || !leading.hidden)) {
          leading.hidden = !a.leading;
          outbid.hidden = a.leading;
        }
      })
      .catch(function () { /* the next poll tries again */ });
  }
  window.setInterval(refresh, 2000);
})();
