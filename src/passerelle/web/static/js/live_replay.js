// Replay: the recorded video (when kept) with the live's chat, pins, deals and auctions
// applied at their video times. Without a recording, the events play on their own clock.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-replay]");
  if (!root) return;
  var events = JSON.parse(root.querySelector("[data-replay-events]").textContent || "[]");
  var video = root.querySelector("[data-replay-video]");
  var list = root.querySelector("[data-chat-list]");
  var status = root.querySelector("[data-replay-status]");
  var texts = root.querySelector("[data-msg-deal]");
  var next = 0, clockStart = null;

  function now() { return clockStart !== null ? Date.now() - clockStart : video.currentTime * 1000; }

  function apply(event) {
    if (event.type === "message") {
      var item = document.createElement("li");
      item.className = "chat-item";
      var author = document.createElement("strong");
      author.textContent = event.user && event.user.name ? event.user.name : "?";
      item.appendChild(author);
      item.appendChild(document.createTextNode(" " + event.text));
      list.appendChild(item);
      list.scrollTop = list.scrollHeight;
    } else if (event.type === "pin") {
      root.querySelectorAll("[data-replay-product]").forEach(function (card) {
        var on = event.product_ids.indexOf(Number(card.dataset.replayProduct)) >= 0;
        card.querySelector("[data-replay-pinned]").hidden = !on;
        card.classList.toggle("is-pinned", on);
      });
    } else if (event.type === "deal") {
      status.textContent = texts.getAttribute("data-msg-deal").replace("{left}", String(event.remaining));
    } else if (event.type === "auction") {
      status.textContent = texts.getAttribute("data-msg-auction").replace("{bids}", String(event.bids));
    }
  }

  function reset() { next = 0; list.textContent = ""; apply({ type: "pin", product_ids: [] }); }

  function step() {
    var t = now();
    if (next > 0 && events[next - 1] && events[next - 1].t > t) reset();  // the viewer seeked back
    while (next < events.length && events[next].t <= t) { apply(events[next].event); next++; }
    root.dataset.replayApplied = String(next);
  }

  function noVideo() {
    video.hidden = true;
    root.querySelector("[data-replay-novideo]").hidden = false;
  }

  root.querySelector("[data-replay-start]").addEventListener("click", function () { reset(); clockStart = Date.now(); });
  if (!root.dataset.hlsUrl) {
    noVideo();  // no finished recording: the events play on their own clock
  } else if (window.Hls && window.Hls.isSupported()) {
    var hls = new window.Hls({ enableWorker: false, startPosition: 0 });
    hls.on(window.Hls.Events.ERROR, function (_e, data) { if (data.fatal) { hls.destroy(); noVideo(); } });
    hls.loadSource(root.dataset.hlsUrl);
    hls.attachMedia(video);
  } else {
    video.src = root.dataset.hlsUrl;
    video.addEventListener("error", noVideo);
  }
  setInterval(step, 250);
})();
