// Live room shelf: pinned cards, the running deal and open auctions, kept current from the
// room's events (live.js re-dispatches each one as a "live-event" DOM event). The shelf HTML
// comes from the server (escaped there); counts and prices are set with textContent.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-room]");
  var shelf = root && root.querySelector("[data-live-shelf]");
  if (!shelf) return;
  var roomId = root.dataset.roomId, busy = false, again = false;
  var notice = shelf.querySelector("[data-shelf-notice]");

  function msg(code) { return shelf.getAttribute("data-msg-" + code) || shelf.getAttribute("data-msg-error"); }

  function money(price) {
    var format = new Intl.NumberFormat(document.documentElement.lang || undefined, { style: "currency", currency: price.currency });
    return format.format(price.amount / Math.pow(10, format.resolvedOptions().maximumFractionDigits));
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch("/live/" + roomId + "/shelf", { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { shelf.querySelector("[data-shelf-items]").innerHTML = html; tick(); } })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }

  function tick() {
    shelf.querySelectorAll("[data-ends-at]").forEach(function (card) {
      var left = Math.max(0, Math.round((Date.parse(card.dataset.endsAt) - Date.now()) / 1000));
      var out = card.querySelector("[data-deal-countdown]");
      if (out) out.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      // Over: the shelf drops it (an anti-sniping extension arrives as an event before that).
      if (left === 0 && !card.dataset.over) { card.dataset.over = "1"; setTimeout(refresh, 1500); }
    });
  }

  function set(selector, value) {
    var found = shelf.querySelector(selector);
    if (found) found.textContent = value;
    return !!found;
  }

  root.addEventListener("live-event", function (e) {
    var event = e.detail;
    if (event.type === "pin" || event.type === "hello") refresh();
    else if (event.type === "deal") {
      if (event.ended || !set('[data-deal-remaining="' + event.deal_id + '"]', String(event.remaining))) refresh();
    } else if (event.type === "auction") {
      if (!set('[data-auction-price="' + event.auction_id + '"]', money(event.price))) refresh();
      set('[data-auction-bids="' + event.auction_id + '"]', String(event.bids));
      var card = shelf.querySelector('[data-live-auction="' + event.auction_id + '"]');
      if (card) card.dataset.endsAt = event.ends_at;
    }
  });

  shelf.addEventListener("click", function (e) {
    var link = e.target.closest("[data-card-click]");
    if (link && navigator.sendBeacon) {
      var body = new Blob([JSON.stringify({ product_id: Number(link.dataset.cardClick) })], { type: "application/json" });
      navigator.sendBeacon("/api/v1/live/rooms/" + roomId + "/clicks", body);
    }
    var claim = e.target.closest("[data-deal-claim]");
    if (!claim) return;
    claim.disabled = true;
    fetch("/api/v1/deals/" + claim.dataset.dealClaim + "/claims", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": shelf.dataset.csrf || "" },
      body: '{"quantity":1}'
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 201) { location.href = "/reservations/" + body.reservation_id + "/pay"; return; }
        if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent("/live/" + roomId); return; }
        notice.textContent = msg(body.code);
      });
    }).catch(function () { notice.textContent = msg("error"); }).then(function () { claim.disabled = false; });
  });

  setInterval(tick, 1000);
  refresh();  // also after a reconnect, events missed while away are caught up here
})();
