/* Festival pages: countdowns and the deal page's "Buy now" button.
 *
 * Countdowns read ISO UTC times from data attributes and measure them against the SERVER's
 * clock: `data-server-now` is the server's "now" when it rendered the page, so the offset
 * between it and this browser's clock is applied to every tick. */
(function () {
  "use strict";

  var TICK_MS = 250;
  var POLL_MS = 2000;
  var loadedAt = Date.now();

  function offsetOf(element) {
    var serverNow = Date.parse(element.getAttribute("data-server-now") || "");
    return isNaN(serverNow) ? 0 : serverNow - loadedAt;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(ms, daysFormat) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var days = Math.floor(total / 86400);
    var rest = total % 86400;
    var clock = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor((rest % 3600) / 60)) + ":" + pad(rest % 60);
    return days > 0 ? (daysFormat || "{days} d").replace("{days}", String(days)) + " " + clock : clock;
  }

  function initCountdown(element) {
    var target = Date.parse(element.getAttribute("data-target") || "");
    if (isNaN(target)) { return; }
    var offset = offsetOf(element);
    var daysFormat = element.getAttribute("data-days-format");
    var done = false;
    function tick() {
      var left = target - (Date.now() + offset);
      element.textContent = format(left, daysFormat);
      if (left <= 0 && !done) {
        done = true;
        window.clearInterval(timer);
        element.dispatchEvent(new CustomEvent("countdown:done", { bubbles: true }));
      }
    }
    var timer = window.setInterval(tick, TICK_MS);
    tick();
  }

  function randomKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return pad16(b); }).join("");
  }

  function pad16(b) { return (b < 16 ? "0" : "") + b.toString(16); }

  /* The deal page: countdown -> "Buy now" -> claim; the stock counter follows the API. */
  function initDeal(root) {
    var id = root.getAttribute("data-deal-id");
    var upcoming = root.querySelector("[data-deal-upcoming]");
    var running = root.querySelector("[data-deal-running]");
    var ended = root.querySelector("[data-deal-ended]");
    var button = root.querySelector("[data-deal-buy]");
    var result = root.querySelector("[data-deal-result]");
    var login = root.querySelector("[data-deal-login]");
    var remaining = root.querySelector("[data-deal-remaining]");

    function show(phase) {
      root.setAttribute("data-phase", phase);
      upcoming.hidden = phase !== "upcoming";
      running.hidden = phase !== "running";
      ended.hidden = phase !== "ended";
    }

    root.addEventListener("countdown:done", function (event) {
      var name = event.target.getAttribute("data-countdown-name");
      if (name === "start" && root.getAttribute("data-phase") === "upcoming") { show("running"); }
      if (name === "end") { show("ended"); }
    });

    function refresh() {
      return fetch("/api/v1/deals/" + encodeURIComponent(id), {
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (deal) {
        if (deal && typeof deal.remaining === "number") { remaining.textContent = String(deal.remaining); }
      }).catch(function () { /* the next poll tries again */ });
    }
    window.setInterval(refresh, POLL_MS);

    function say(kind, code, text) {
      result.textContent = "";
      result.setAttribute("data-result", code);
      var message = document.createElement("p");
      message.className = "alert alert-" + kind;
      message.textContent = text;
      result.appendChild(message);
    }

    var messages = {
      sold_out: "data-msg-sold-out",
      limit_reached: "data-msg-limit-reached",
      not_started: "data-msg-not-started",
      ended: "data-msg-ended",
      too_many_reservations: "data-msg-too-many",
      busy: "data-msg-busy",
      rate_limited: "data-msg-busy"
    };

    function handle(status, body) {
      login.hidden = true;
      if (status === 201 && body && body.status === "reserved") {
        var payBy = new Date(body.pay_by);
        var time = payBy.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
        say("ok", "reserved", root.getAttribute("data-msg-reserved").replace("{time}", time));
        var pay = document.createElement("a");
        pay.className = "button button-block";
        pay.href = "/reservations/" + encodeURIComponent(String(body.reservation_id)) + "/pay";
        pay.setAttribute("data-deal-pay", "");
        pay.textContent = root.getAttribute("data-msg-pay-now");
        result.appendChild(pay);
        return;
      }
      if (status === 401) {
        result.textContent = "";
        result.setAttribute("data-result", "unauthorized");
        login.hidden = false;
        return;
      }
      var code = body && body.code;
      var attribute = messages[code] || "data-msg-error";
      say(code === "busy" || code === "rate_limited" ? "warn" : "error", code || "error", root.getAttribute(attribute));
      if (code === "ended") { show("ended"); }
    }

    button.addEventListener("click", function () {
      button.disabled = true;
      fetch("/api/v1/deals/" + encodeURIComponent(id) + "/claims", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRF-Token": root.getAttribute("data-csrf") || "",
          "Idempotency-Key": randomKey()
        },
        body: '{"quantity":1}'
      }).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          handle(response.status, body);
        });
      }).catch(function () {
        say("error", "error", root.getAttribute("data-msg-error"));
      }).then(function () {
        button.disabled = false;
        return refresh();
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-countdown]").forEach(initCountdown);
    document.querySelectorAll("[data-deal]").forEach(initDeal);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
